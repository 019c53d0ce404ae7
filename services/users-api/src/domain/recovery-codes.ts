import { createHash, randomInt } from 'node:crypto'
import type { Types } from 'mongoose'

// Base32 without the look-alikes 0/O and 1/I: 32 symbols, 5 bits each.
const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'
const codeLength = 16
export const recoveryCodeCount = 10

/** Ten new codes of 16 symbols (80 bits each), as shown to the user: `XXXX-XXXX-XXXX-XXXX`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: recoveryCodeCount }, () => {
    const symbols = Array.from({ length: codeLength }, () => alphabet[randomInt(alphabet.length)])
    return symbols.join('').replace(/(.{4})(?=.)/g, '$1-')
  })
}

/** The code as stored and compared: upper case, without separators; undefined if it is not one. */
export function normalizeRecoveryCode(input: string): string | undefined {
  const code = input.replaceAll(/[\s-]/g, '').toUpperCase()
  if (code.length !== codeLength) return undefined
  for (const symbol of code) if (!alphabet.includes(symbol)) return undefined
  return code
}

/**
 * SHA-256 rather than a slow password hash: each code is 80 random bits, so even a stolen
 * table cannot be searched (2^80 guesses per code), unlike a human-chosen password. The
 * account id is mixed in, so a code only ever matches its own account.
 */
export function hashRecoveryCode(userId: Types.ObjectId, normalized: string): string {
  return createHash('sha256').update(`${userId.toString()}:${normalized}`).digest('base64url')
}
