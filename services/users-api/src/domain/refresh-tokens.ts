import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  randomUUID,
} from 'node:crypto'

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

// A rotation's answer, kept for a retry within the reuse grace: sealed (AES-256-GCM) under a
// key derived from the token it retired, so the database never holds it in a usable form and
// only whoever presents that token again can open it.
const sealInfo = 'users-auth refresh-token retry v1'

function retryKey(retiredToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', retiredToken, '', sealInfo, 32))
}

export function sealForRetry(retiredToken: string, answer: object): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', retryKey(retiredToken), iv)
  const sealed = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()])
  return [iv, sealed, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.')
}

/** The sealed answer, or undefined when it does not open with this token. */
export function openForRetry(retiredToken: string, sealed: string): unknown {
  const [iv, data, tag] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'))
  if (!iv || !data || !tag) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', retryKey(retiredToken), iv, {
      authTagLength: 16,
    })
    decipher.setAuthTag(tag)
    const text = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8')
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
