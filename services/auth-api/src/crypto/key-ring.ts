import { createPrivateKey, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
import type { Jwks, PublicJwk } from '@users-auth/auth-contract'

/** Asymmetric algorithms we sign with; symmetric ones are refused outright. */
export const signingAlgorithms = ['EdDSA', 'ES256'] as const
export type SigningAlgorithm = (typeof signingAlgorithms)[number]

export interface SigningKey {
  kid: string
  alg: SigningAlgorithm
  /** PKCS#8 PEM, for node:crypto's synchronous signing. */
  pem: string
}

export interface KeyRing {
  /** The first configured key: the one that signs. */
  signing: SigningKey
  /** Every key's public half: all may still verify live tokens. */
  jwks: Jwks
  /** 'generated' when no keys were configured (development only). */
  source: 'configured' | 'generated'
}

export class KeyConfigError extends Error {
  override name = 'KeyConfigError'
}

function algorithmOf(jwk: JWK): SigningAlgorithm {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA'
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256'
  throw new KeyConfigError(
    `unsupported key type ${jwk.kty ?? '?'}/${jwk.crv ?? '?'} (use Ed25519 or P-256)`,
  )
}

function publicHalf(jwk: JWK, kid: string, alg: SigningAlgorithm): PublicJwk {
  const { kty = '', crv, x, y } = jwk
  return {
    kty,
    kid,
    alg,
    use: 'sig',
    ...(crv ? { crv } : {}),
    ...(x ? { x } : {}),
    ...(y ? { y } : {}),
  }
}

async function entry(jwk: JWK): Promise<{ signing: SigningKey; published: PublicJwk }> {
  if (!jwk.d) throw new KeyConfigError(`key ${jwk.kid ?? '(no kid)'} has no private part`)
  const alg = algorithmOf(jwk)
  if (jwk.alg && jwk.alg !== alg)
    throw new KeyConfigError(`key ${jwk.kid ?? ''} declares alg ${jwk.alg}, expected ${alg}`)
  const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk))
  let pem: string
  try {
    pem = createPrivateKey({ key: { ...jwk }, format: 'jwk' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString()
  } catch {
    throw new KeyConfigError(`key ${kid} is not a valid private key`)
  }
  return { signing: { kid, alg, pem }, published: publicHalf(jwk, kid, alg) }
}

/** Parses `JWT_PRIVATE_KEYS` (a private JWK set); the first key signs, all are published. */
export async function loadKeyRing(privateJwks: string): Promise<KeyRing> {
  let parsed: unknown
  try {
    parsed = JSON.parse(privateJwks)
  } catch {
    throw new KeyConfigError('JWT_PRIVATE_KEYS is not valid JSON (expected {"keys":[...]})')
  }
  const keys = (parsed as { keys?: unknown }).keys
  if (!Array.isArray(keys) || keys.length === 0)
    throw new KeyConfigError('JWT_PRIVATE_KEYS has no keys')
  const entries = await Promise.all(keys.map((k) => entry(k as JWK)))
  const kids = new Set(entries.map((e) => e.signing.kid))
  if (kids.size !== entries.length) throw new KeyConfigError('JWT_PRIVATE_KEYS has duplicate kids')
  const [first] = entries
  if (!first) throw new KeyConfigError('JWT_PRIVATE_KEYS has no keys')
  return {
    signing: first.signing,
    jwks: { keys: entries.map((e) => e.published) },
    source: 'configured',
  }
}

/** A fresh private JWK (Ed25519 by default), as `pnpm keygen` prints and rotation needs. */
export async function generatePrivateJwk(alg: SigningAlgorithm = 'EdDSA'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  })
  const jwk = await exportJWK(privateKey)
  return {
    ...jwk,
    kid: `${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`,
    alg,
    use: 'sig',
  }
}

/** Development only: one ephemeral key, gone at restart (tokens signed with it die too). */
export async function generateKeyRing(): Promise<KeyRing> {
  const ring = await loadKeyRing(JSON.stringify({ keys: [await generatePrivateJwk()] }))
  return { ...ring, source: 'generated' }
}
