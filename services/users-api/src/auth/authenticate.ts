import fastifyJwt from '@fastify/jwt'
import { LRUCache } from 'lru-cache'
import { accessTokenType, AuthApiUnavailableError } from '@users-auth/auth-contract'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Forbidden, Unauthorized } from '../errors.js'
import type { Principal, Sessions } from '../domain/sessions.js'
import { acceptedAlgorithms, type JwksCache } from './jwks-cache.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` for routes that require a Bearer token. */
    auth: Principal | null
  }
}

interface AccessClaims {
  sub: string
  sid: string
  exp: number
}

/** How many verified tokens are remembered (about one per active session in this replica). */
const verifiedTokensKept = 10_000

// Header parameters that would let a token name its own key (RFC 8725 §3.10): never honoured,
// and a token that carries one is refused.
const forbiddenHeaders = ['jku', 'x5u', 'jwk', 'x5c', 'crit']

export interface AuthenticationOptions {
  jwks: JwksCache
  sessions: Sessions
  issuer: string
  audience: string
}

export interface Guards {
  authenticate: (request: FastifyRequest) => Promise<void>
  requireAdmin: (request: FastifyRequest) => Promise<void>
}

/**
 * Verifies access tokens locally against auth-api's JWKS (pinned algorithms, issuer, audience
 * and `typ`; verified tokens are cached until they expire), then requires the token's session
 * and user to be live, so logout, password change and deletion take effect on the next request.
 */
export async function registerAuthentication(
  app: FastifyInstance,
  options: AuthenticationOptions,
): Promise<Guards> {
  // The key each request's token was verified with, for the cache below.
  const keyIdOf = new WeakMap<FastifyRequest, string>()
  await app.register(fastifyJwt, {
    decode: { complete: true },
    secret: async (request: FastifyRequest, token: unknown) => {
      const header = (token as { header?: Record<string, unknown> }).header ?? {}
      const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : ''
      if (typ !== accessTokenType && typ !== `application/${accessTokenType}`)
        throw new Unauthorized()
      if (forbiddenHeaders.some((name) => name in header)) throw new Unauthorized()
      if (typeof header.kid !== 'string') throw new Unauthorized()
      const key = await options.jwks.keyFor(header.kid)
      if (!key) throw new Unauthorized()
      keyIdOf.set(request, header.kid)
      return key
    },
    verify: {
      algorithms: [...acceptedAlgorithms],
      allowedIss: options.issuer,
      allowedAud: options.audience,
      // allowedIss/allowedAud only judge claims that are present: a token must carry both.
      requiredClaims: ['iss', 'aud', 'sub', 'sid', 'iat', 'exp', 'jti'],
      // Verified tokens are remembered below, by their exact text.
      cache: false,
    },
  })
  app.decorateRequest('auth', null)

  // A token seen before, byte for byte, passed every check then: until it expires, and while
  // its key is still published, a repeat skips decoding, the header checks and the signature
  // (a tenth of an authenticated request's CPU). The least recently used ones make room.
  const verified = new LRUCache<string, { claims: AccessClaims; kid: string }>({
    max: verifiedTokensKept,
  })

  async function verifiedClaims(request: FastifyRequest): Promise<AccessClaims> {
    const token = bearerToken(request.headers.authorization)
    const known = token === undefined ? undefined : verified.get(token)
    if (known && known.claims.exp * 1000 > Date.now() && options.jwks.has(known.kid)) {
      return known.claims
    }
    if (token !== undefined && !canonicalSignature(token)) throw new Unauthorized()
    const claims = await request.jwtVerify<AccessClaims>()
    const kid = keyIdOf.get(request)
    if (token !== undefined && kid !== undefined) verified.set(token, { claims, kid })
    return claims
  }

  async function authenticate(request: FastifyRequest): Promise<void> {
    let claims: AccessClaims
    try {
      claims = await verifiedClaims(request)
    } catch (error) {
      if (error instanceof AuthApiUnavailableError) throw error
      throw new Unauthorized()
    }
    const principal = await options.sessions.resolve(claims.sid, claims.sub)
    if (!principal) throw new Unauthorized()
    request.auth = principal
  }

  async function requireAdmin(request: FastifyRequest): Promise<void> {
    await authenticate(request)
    if (!request.auth?.roles.includes('admin')) throw new Forbidden()
  }

  return { authenticate, requireAdmin }
}

/** The token of an `Authorization: Bearer` header; the scheme's name is case-insensitive. */
function bearerToken(header: string | undefined): string | undefined {
  return header !== undefined && header.length > 7 && /^bearer $/i.test(header.slice(0, 7))
    ? header.slice(7)
    : undefined
}

/**
 * Whether the signature is spelled the one way base64url spells its bytes. The unused low bits
 * of its last character would otherwise give one signature 16 spellings, each a cache entry
 * of its own (RFC 4648 §3.5 lets a decoder refuse them; ours are never sent). An ES256
 * signature still has two forms, (r, s) and (r, n − s), as ECDSA allows: two entries at most.
 */
function canonicalSignature(token: string): boolean {
  const signature = token.slice(token.lastIndexOf('.') + 1)
  return Buffer.from(signature, 'base64url').toString('base64url') === signature
}

/** The caller of a route guarded by `authenticate`. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.auth) throw new Unauthorized()
  return request.auth
}
