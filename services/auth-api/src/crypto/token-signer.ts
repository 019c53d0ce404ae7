import { randomUUID } from 'node:crypto'
import { accessTokenType, type TokenRequest, type TokenResponse } from '@users-auth/auth-contract'
import { SignJWT } from 'jose'
import type { KeyRing } from './key-ring.js'

export interface TokenSignerOptions {
  keyRing: KeyRing
  issuer: string
  audience: string
  ttlSeconds: number
  /** Milliseconds since the epoch; injected so expiry is tested without sleeping. */
  now?: () => number
}

/** Mints access tokens: `typ: at+jwt`, `kid` of the signing key, short-lived, unique `jti`. */
export function createTokenSigner(
  options: TokenSignerOptions,
): (claims: TokenRequest) => Promise<TokenResponse> {
  const now = options.now ?? Date.now
  const { signing } = options.keyRing
  return async ({ sub, sid, roles }) => {
    const iat = Math.floor(now() / 1000)
    const accessToken = await new SignJWT({ sid, roles })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: accessTokenType })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + options.ttlSeconds)
      .setJti(randomUUID())
      .sign(signing.key)
    return { accessToken, expiresIn: options.ttlSeconds }
  }
}
