import { Type, type Static } from 'typebox'

// The wire schemas of auth-api's internal API: auth-api validates requests and shapes replies
// with them, and users-api's client checks what comes back against them.

/** Passwords above this many UTF-8 bytes are refused before any hashing work. */
export const maxPasswordBytes = 1024

export const RoleSchema = Type.Union([Type.Literal('user'), Type.Literal('admin')])
export type Role = Static<typeof RoleSchema>

export const HashRequestSchema = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: maxPasswordBytes }) },
  { additionalProperties: false },
)
export type HashRequest = Static<typeof HashRequestSchema>

export const HashResponseSchema = Type.Object({ hash: Type.String() })
export type HashResponse = Static<typeof HashResponseSchema>

export const VerifyRequestSchema = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: maxPasswordBytes }),
    hash: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()]),
  },
  { additionalProperties: false },
)
export type VerifyRequest = Static<typeof VerifyRequestSchema>

export const VerifyResponseSchema = Type.Object({
  valid: Type.Boolean(),
  needsRehash: Type.Boolean(),
})
export type VerifyResponse = Static<typeof VerifyResponseSchema>

export const TokenRequestSchema = Type.Object(
  {
    sub: Type.String({ minLength: 1, maxLength: 128 }),
    sid: Type.String({ minLength: 1, maxLength: 128 }),
    roles: Type.Array(RoleSchema, { maxItems: 8, uniqueItems: true }),
  },
  { additionalProperties: false },
)
export type TokenRequest = Static<typeof TokenRequestSchema>

export const TokenResponseSchema = Type.Object({
  accessToken: Type.String(),
  expiresIn: Type.Integer({ minimum: 1 }),
})
export type TokenResponse = Static<typeof TokenResponseSchema>

export const PublicJwkSchema = Type.Object({
  kty: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  use: Type.Literal('sig'),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  y: Type.Optional(Type.String()),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String()),
})
export type PublicJwk = Static<typeof PublicJwkSchema>

export const JwksSchema = Type.Object({ keys: Type.Array(PublicJwkSchema) })
export type Jwks = Static<typeof JwksSchema>

/** auth-api's answer to a caller whose service credential it accepts. */
export const CredentialCheckResponseSchema = Type.Object(
  { accepted: Type.Literal(true) },
  { additionalProperties: false },
)
export type CredentialCheckResponse = Static<typeof CredentialCheckResponseSchema>

/** The access token's JOSE `typ` (RFC 9068), so it cannot be confused with another JWT. */
export const accessTokenType = 'at+jwt'

export const authApiPaths = {
  hash: '/v1/passwords/hash',
  verify: '/v1/passwords/verify',
  tokens: '/v1/tokens',
  /** Costs nothing but the credential check: how a caller learns its credential is accepted. */
  credential: '/v1/credential',
  jwks: '/.well-known/jwks.json',
} as const

/** The credential both services fall back to outside production, so `pnpm start` needs no setup. */
export const developmentCredential = 'dev-internal-token-not-for-production'
