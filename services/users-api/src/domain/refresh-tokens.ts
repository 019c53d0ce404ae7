import { createHash, randomBytes, randomUUID } from 'node:crypto'

// A refresh token is `<session id>.<256 random bits>`: opaque to clients, stored only as a
// hash, and the session id lets a replayed token be traced to its session.

export function newSessionId(): string {
  return randomUUID()
}

export function newRefreshToken(sessionId: string): string {
  return `${sessionId}.${randomBytes(32).toString('base64url')}`
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

const shape = /^([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}$/

export function sessionIdOf(token: string): string | undefined {
  return shape.exec(token)?.[1]
}
