import { createHash, randomBytes } from 'node:crypto'

/** How long each kind of mail token lives (contract). */
export const mailTokenTtlMs = {
  'verify-email': 24 * 60 * 60_000,
  'reset-password': 60 * 60_000,
  'change-email': 60 * 60_000,
} as const

/** 256 random bits, base64url (43 characters): what a mail link carries. */
export function newMailToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashMailToken(token) }
}

/** What is stored and looked up: the token itself never is. */
export function hashMailToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}
