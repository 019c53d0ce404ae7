import { Type, type Static } from 'typebox'

// The wire schemas of auth-api's internal API: auth-api validates requests and shapes replies
// with them, and users-api's client checks what comes back against them.

/** Passwords above this many UTF-8 bytes are refused before any hashing work. */
export const maxPasswordBytes = 1024

export const RoleSchema = Type.Union([Type.Literal('user'), Type.Literal('admin')])
export type Role = Static<typeof RoleSchema>

// The bounds on replies below are generous truths about what auth-api sends: users-api's
// client checks replies against these schemas, so a tight guess would refuse a real answer.
const phcHashMaxLength = 512
const accessTokenMaxLength = 8192

export const HashRequestSchema = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: maxPasswordBytes }) },
  { additionalProperties: false, examples: [{ password: 'plum tractor velvet orbit 47' }] },
)
export type HashRequest = Static<typeof HashRequestSchema>

export const HashResponseSchema = Type.Object({
  hash: Type.String({ maxLength: phcHashMaxLength, description: 'An argon2id PHC string' }),
})
export type HashResponse = Static<typeof HashResponseSchema>

export const VerifyRequestSchema = Type.Object(
  {
    password: Type.String({ minLength: 1, maxLength: maxPasswordBytes }),
    hash: Type.Union([Type.String({ minLength: 1, maxLength: phcHashMaxLength }), Type.Null()]),
  },
  {
    additionalProperties: false,
    examples: [
      {
        password: 'plum tractor velvet orbit 47',
        hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$TbUHfTeJ7tfIuS0x4F4FpZ9Y9bi1mKSxIc2aPC2hImg',
      },
    ],
  },
)
export type VerifyRequest = Static<typeof VerifyRequestSchema>

export const VerifyResponseSchema = Type.Object({
  valid: Type.Boolean(),
  needsRehash: Type.Boolean(),
})
export type VerifyResponse = Static<typeof VerifyResponseSchema>

/** RFC 8176 authentication method references this project issues. */
export const AmrSchema = Type.Union([
  Type.Literal('pwd'),
  Type.Literal('otp'),
  Type.Literal('mfa'),
  Type.Literal('fed'),
])
export type Amr = Static<typeof AmrSchema>

export const TokenRequestSchema = Type.Object(
  {
    sub: Type.String({ minLength: 1, maxLength: 128 }),
    sid: Type.String({ minLength: 1, maxLength: 128 }),
    roles: Type.Array(RoleSchema, { maxItems: 8, uniqueItems: true }),
    amr: Type.Optional(
      Type.Array(AmrSchema, {
        maxItems: 4,
        uniqueItems: true,
        description: 'How the session was authenticated (RFC 8176)',
      }),
    ),
    auth_time: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 2 ** 53 - 1,
        format: 'int64',
        description: 'When the user authenticated, seconds since the epoch (OIDC Core)',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        sub: '665f1c2ab4e9d3a1c0f7e812',
        sid: '0b6f1f2e-8c1d-4e43-9a57-3f0e2f1c9d4a',
        roles: ['user'],
        amr: ['pwd'],
        auth_time: 1_780_000_000,
      },
    ],
  },
)
export type TokenRequest = Static<typeof TokenRequestSchema>

export const TokenResponseSchema = Type.Object({
  accessToken: Type.String({ maxLength: accessTokenMaxLength }),
  expiresIn: Type.Integer({ minimum: 1, maximum: 2_147_483_647, format: 'int32' }),
})
export type TokenResponse = Static<typeof TokenResponseSchema>

export const LoginRequestSchema = Type.Object(
  {
    password: VerifyRequestSchema.properties.password,
    hash: VerifyRequestSchema.properties.hash,
    token: TokenRequestSchema,
  },
  {
    additionalProperties: false,
    examples: [
      {
        password: 'plum tractor velvet orbit 47',
        hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$TbUHfTeJ7tfIuS0x4F4FpZ9Y9bi1mKSxIc2aPC2hImg',
        token: {
          sub: '665f1c2ab4e9d3a1c0f7e812',
          sid: '0b6f1f2e-8c1d-4e43-9a57-3f0e2f1c9d4a',
          roles: ['user'],
          amr: ['pwd'],
          auth_time: 1_780_000_000,
        },
      },
    ],
  },
)
export type LoginRequest = Static<typeof LoginRequestSchema>

// One shape for both outcomes, the token fields present exactly when `valid` is true: a union
// would cost every reply a branch search in the serialiser, and the client checks the rule.
export const LoginResponseSchema = Type.Object({
  valid: Type.Boolean(),
  needsRehash: Type.Boolean(),
  accessToken: Type.Optional(TokenResponseSchema.properties.accessToken),
  expiresIn: Type.Optional(TokenResponseSchema.properties.expiresIn),
})
export type LoginResponse = Static<typeof LoginResponseSchema>

const jwkName = Type.String({ maxLength: 32 })
const jwkNumber = (maxLength: number) => Type.Optional(Type.String({ maxLength }))

export const PublicJwkSchema = Type.Object({
  kty: jwkName,
  kid: Type.String({ maxLength: 256 }),
  alg: jwkName,
  use: Type.Literal('sig'),
  crv: Type.Optional(jwkName),
  x: jwkNumber(256),
  y: jwkNumber(256),
  n: jwkNumber(4096),
  e: jwkNumber(32),
})
export type PublicJwk = Static<typeof PublicJwkSchema>

export const JwksSchema = Type.Object({ keys: Type.Array(PublicJwkSchema, { maxItems: 100 }) })
export type Jwks = Static<typeof JwksSchema>

/** auth-api's answer to a caller whose service credential it accepts. */
export const CredentialCheckResponseSchema = Type.Object(
  { accepted: Type.Literal(true) },
  { additionalProperties: false },
)
export type CredentialCheckResponse = Static<typeof CredentialCheckResponseSchema>

/** A TOTP secret as auth-api seals it: `v1.<key id>.<iv>.<sealed>`, base64url parts. */
const totpCiphertext = (
  description = 'The TOTP secret encrypted under TOTP_ENCRYPTION_KEYS (the key id inside)',
) => Type.String({ minLength: 8, maxLength: 512, pattern: '^[A-Za-z0-9_.-]+$', description })
const totpCodeSchema = Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' })

export const TotpEnrollRequestSchema = Type.Object(
  {
    accountName: Type.String({ minLength: 1, maxLength: 254 }),
    issuer: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^:]+$' }),
  },
  {
    additionalProperties: false,
    examples: [{ accountName: 'ada@example.com', issuer: 'users-auth' }],
  },
)
export type TotpEnrollRequest = Static<typeof TotpEnrollRequestSchema>

export const TotpEnrollResponseSchema = Type.Object({
  secret: Type.String({
    maxLength: 128,
    description: 'Base32, to show the user once; never stored in clear',
  }),
  otpauthUri: Type.String({ maxLength: 1024, description: 'The QR-ready otpauth://totp/ URI' }),
  ciphertext: totpCiphertext(),
})
export type TotpEnrollResponse = Static<typeof TotpEnrollResponseSchema>

export const TotpVerifyRequestSchema = Type.Object(
  {
    ciphertext: totpCiphertext(),
    code: totpCodeSchema,
    afterStep: Type.Integer({
      minimum: -1,
      maximum: 2 ** 40,
      format: 'int64',
      description: 'The last time step accepted for the account: this one and earlier are refused',
    }),
  },
  {
    additionalProperties: false,
    examples: [
      { ciphertext: 'v1.k1.AAAAAAAAAAAAAAAA.AAAA', code: '123456', afterStep: 59_000_000 },
    ],
  },
)
export type TotpVerifyRequest = Static<typeof TotpVerifyRequestSchema>

export const TotpVerifyResponseSchema = Type.Object({
  valid: Type.Boolean(),
  step: Type.Union([Type.Integer({ minimum: 0, maximum: 2 ** 40, format: 'int64' }), Type.Null()], {
    description: 'The time step the code belongs to, when valid',
  }),
  ciphertext: Type.Optional(
    totpCiphertext('Present when the secret was sealed under an older key: store this instead'),
  ),
})
export type TotpVerifyResponse = Static<typeof TotpVerifyResponseSchema>

/** The access token's JOSE `typ` (RFC 9068), so it cannot be confused with another JWT. */
export const accessTokenType = 'at+jwt'

export const authApiPaths = {
  hash: '/v1/passwords/hash',
  verify: '/v1/passwords/verify',
  tokens: '/v1/tokens',
  /** Verifies a password and, when it is right, mints the token: one call per login. */
  logins: '/v1/logins',
  /** Costs nothing but the credential check: how a caller learns its credential is accepted. */
  credential: '/v1/credential',
  totpEnroll: '/v1/totp/enroll',
  totpVerify: '/v1/totp/verify',
  jwks: '/.well-known/jwks.json',
} as const

/** The credential both services fall back to outside production, so `pnpm start` needs no setup. */
export const developmentCredential = 'dev-internal-token-not-for-production'
