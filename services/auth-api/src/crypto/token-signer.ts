import { randomUUID } from 'node:crypto'
import { accessTokenType, type TokenRequest, type TokenResponse } from '@users-auth/auth-contract'
import { createSigner } from 'fast-jwt'
import type { KeyRing } from './key-ring.js'

export interface TokenSignerOptions {
  keyRing: KeyRing
  issuer: string
  audience: string
  ttlSeconds: number
  /** Milliseconds since the epoch; injected so expiry is tested without sleeping. */
  now?: () => number
}

/**
 * Mints access tokens: `typ: at+jwt`, `kid` of the signing key, short-lived, unique `jti`.
 * Signing is synchronous node:crypto on the main thread (tens of microseconds): WebCrypto
 * would queue it on libuv's pool behind argon2 jobs.
 */
export function createTokenSigner(
  options: TokenSignerOptions,
): (claims: TokenRequest) => TokenResponse {
  const now = options.now ?? Date.now
  const { signing } = options.keyRing
  const sign = createSigner({
    key: signing.pem,
    algorithm: signing.alg,
    kid: signing.kid,
    header: { alg: signing.alg, typ: accessTokenType },
    iss: options.issuer,
    aud: options.audience,
    expiresIn: options.ttlSeconds * 1000,
  })
  return ({ sub, sid, roles, amr, auth_time }) => {
    const iat = Math.floor(now() / 1000)
    const accessToken = sign({
      sub,
      sid,
      roles,
      ...(amr ? { amr } : {}),
      ...(auth_time === undefined ? {} : { auth_time }),
      iat,
      jti: randomUUID(),
    })
    return { accessToken, expiresIn: options.ttlSeconds }
  }
}
