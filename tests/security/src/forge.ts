import {
  createPrivateKey,
  randomUUID,
  sign as cryptoSign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto'
import { base64url, decodeJwt, decodeProtectedHeader, type JWK } from 'jose'

export type Claims = Record<string, unknown>
export type Header = Record<string, unknown>

/**
 * Mints access tokens with the pair's own signing keys (the suite generated them), so every
 * claim and header the server checks can be set to a hostile value while the signature stays
 * valid: what is under test is the server's checks, not the cryptography.
 */
/**
 * Signs by hand rather than through a JOSE library, which would refuse to produce many of the
 * hostile headers (`crit`, odd `kid` types) this suite needs.
 */
function signBytes(signing: { alg: string; key: KeyObject }, data: Buffer): Buffer {
  if (signing.alg === 'ES256') {
    return cryptoSign('sha256', data, { key: signing.key, dsaEncoding: 'ieee-p1363' })
  }
  return cryptoSign(null, data, signing.key)
}

export function forger(privateJwks: string, issuer: string, audience: string) {
  const jwks = (JSON.parse(privateJwks) as { keys: (JWK & { kid: string; alg: string })[] }).keys
  const keys = jwks.map((jwk) => ({
    kid: jwk.kid,
    alg: jwk.alg,
    key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
  }))
  const pick = (index: number) => {
    const key = keys[index] ?? keys[0]
    if (!key) throw new Error('no signing key')
    return key
  }
  const active = pick(0)

  /** Standard claims of a live token for (sub, sid), overridden by `claims`. */
  function claimsFor(sub: string, sid: string, claims: Claims = {}): Claims {
    const now = Math.floor(Date.now() / 1000)
    return {
      iss: issuer,
      aud: audience,
      sub,
      sid,
      roles: ['user'],
      iat: now,
      exp: now + 900,
      jti: randomUUID(),
      ...claims,
    }
  }

  /**
   * Signs `claims` exactly as given (undefined values dropped) with `header` over the active
   * key's defaults; `key` picks another of the pair's keys by index.
   */
  function sign(claims: Claims, header: Header = {}, key = 0): string {
    const signing = pick(key)
    const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined))
    const merged: Header = { alg: signing.alg, kid: signing.kid, typ: 'at+jwt', ...header }
    const protectedHeader = Object.fromEntries(
      Object.entries(merged).filter(([, v]) => v !== undefined),
    )
    const input = `${encodeSegment(protectedHeader)}.${encodeSegment(payload)}`
    const signature = signBytes(signing, Buffer.from(input))
    return `${input}.${signature.toString('base64url')}`
  }

  return { keys, active, claimsFor, sign }
}

export function headerOf(token: string): Header {
  return decodeProtectedHeader(token)
}

export function claimsOf(token: string): Claims {
  return decodeJwt(token)
}

export function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value))
}
