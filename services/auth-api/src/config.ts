import { availableParallelism } from 'node:os'
import { developmentCredential } from '@users-auth/auth-contract'
import {
  ConfigError,
  parseDuration,
  parseEnv,
  parseList,
  serviceEnvFields,
  type Mode,
} from '@users-auth/service-kit'
import { Type } from 'typebox'

/** Every variable auth-api reads; the README's table is generated from these descriptions. */
export const EnvSchema = Type.Object({
  ...serviceEnvFields(4000),
  INTERNAL_API_TOKEN: Type.Optional(
    Type.String({
      description:
        'Service credentials accepted from callers, comma-separated (several while rotating). Required in production, each at least 32 characters; the development credential elsewhere.',
    }),
  ),
  JWT_PRIVATE_KEYS: Type.Optional(
    Type.String({
      description:
        'Private JWK set `{"keys":[...]}`, Ed25519 or P-256; the first signs, all are published. Required in production; generated at start elsewhere. `pnpm --silent --filter auth-api keygen` or the image\'s `node dist/keygen.js` prints one.',
    }),
  ),
  TOTP_ENCRYPTION_KEYS: Type.Optional(
    Type.String({
      description:
        'Keys that encrypt TOTP secrets (AES-256-GCM): a comma list of `id:base64key` (32 bytes each); the first encrypts, all decrypt, so a new key goes first and old ones stay until every secret was re-encrypted. Required in production; generated at start elsewhere, so a development restart loses every enrolled second factor. `pnpm --silent --filter auth-api keygen --totp` prints one.',
    }),
  ),
  JWT_ISSUER: Type.String({ default: 'users-auth', description: "Access tokens' `iss`." }),
  JWT_AUDIENCE: Type.String({ default: 'users-auth', description: "Access tokens' `aud`." }),
  ACCESS_TOKEN_TTL: Type.String({ default: '15m', description: 'Access-token lifetime.' }),
  ARGON2_MEMORY_KIB: Type.Integer({
    minimum: 1024,
    default: 19456,
    description:
      'argon2id memory (OWASP); raising a cost rehashes passwords at their next login. Stored hashes costing over 4× are refused.',
  }),
  ARGON2_ITERATIONS: Type.Integer({ minimum: 1, default: 2, description: 'argon2id passes.' }),
  ARGON2_PARALLELISM: Type.Integer({
    minimum: 1,
    maximum: 16,
    default: 1,
    description: 'argon2id lanes.',
  }),
  HASH_THREADS: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 128,
      description:
        'Hashing threads; unset: the CPU count. libuv takes its pool size from UV_THREADPOOL_SIZE at process start, so set both (the chart does).',
    }),
  ),
  HASH_CONCURRENCY: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 128,
      description: 'Hash and verify jobs running at once; unset: HASH_THREADS.',
    }),
  ),
  HASH_QUEUE_LIMIT: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'Jobs allowed to wait for a slot (unset: 8 × HASH_CONCURRENCY); beyond it, 503 with Retry-After at once.',
    }),
  ),
  HASH_QUEUE_TIMEOUT_MS: Type.Integer({
    minimum: 1,
    // Far beyond any sensible wait, and below what a Node timer can hold.
    maximum: 600_000,
    default: 500,
    description: 'Longest wait for a slot before 503 with Retry-After.',
  }),
  HASH_QUEUE_BUDGET_MS: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 600_000,
      description:
        'Queue-time budget: a job that, by the recent job durations, would wait longer than this for a slot is refused at once with 503 and Retry-After, before its request body is read (unset, and at most: HASH_QUEUE_TIMEOUT_MS). HASH_CONCURRENCY jobs may always wait, so the workers stay busy.',
    }),
  ),
})

export interface Argon2Params {
  memoryCost: number
  timeCost: number
  parallelism: number
}

export interface Config {
  mode: Mode
  port: number
  host: string
  logLevel: string
  /** Every credential accepted from callers; more than one while rotating. */
  credentials: string[]
  /** Private JWK set (JSON text); absent → an ephemeral key outside production. */
  privateKeys: string | undefined
  /** TOTP_ENCRYPTION_KEYS as given; absent → an ephemeral key outside production. */
  totpKeys: string | undefined
  issuer: string
  audience: string
  accessTokenTtlSeconds: number
  argon2: Argon2Params
  hashing: {
    /** libuv pool size (UV_THREADPOOL_SIZE), set before the pool starts. */
    threads: number
    /** Hash/verify jobs running at once. */
    concurrency: number
    /** Jobs allowed to wait for a slot; beyond it → 503 at once. */
    queueLimit: number
    /** Longest wait for a slot before → 503. */
    queueTimeoutMs: number
    /** Longest expected wait at which a job is still admitted; beyond it → 503 at once. */
    queueBudgetMs: number
  }
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const e = parseEnv(EnvSchema, env)
  const credentials = parseList(e.INTERNAL_API_TOKEN)
  if (e.NODE_ENV === 'production') {
    if (credentials.length === 0)
      throw new ConfigError('INTERNAL_API_TOKEN is required in production')
    if (credentials.some((c) => c.length < 32)) {
      throw new ConfigError('INTERNAL_API_TOKEN: each credential must be at least 32 characters')
    }
    if (!e.JWT_PRIVATE_KEYS) throw new ConfigError('JWT_PRIVATE_KEYS is required in production')
    if (!e.TOTP_ENCRYPTION_KEYS)
      throw new ConfigError('TOTP_ENCRYPTION_KEYS is required in production')
  }
  const threads = e.HASH_THREADS ?? Math.max(1, availableParallelism())
  const concurrency = e.HASH_CONCURRENCY ?? threads
  return {
    mode: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    credentials: credentials.length > 0 ? credentials : [developmentCredential],
    privateKeys: e.JWT_PRIVATE_KEYS,
    totpKeys: e.TOTP_ENCRYPTION_KEYS,
    issuer: e.JWT_ISSUER,
    audience: e.JWT_AUDIENCE,
    accessTokenTtlSeconds: Math.floor(parseDuration(e.ACCESS_TOKEN_TTL) / 1000),
    argon2: {
      memoryCost: e.ARGON2_MEMORY_KIB,
      timeCost: e.ARGON2_ITERATIONS,
      parallelism: e.ARGON2_PARALLELISM,
    },
    hashing: {
      threads,
      concurrency,
      // A short queue: a job that waits longer than its caller's deadline is wasted work.
      queueLimit: e.HASH_QUEUE_LIMIT ?? concurrency * 8,
      queueTimeoutMs: e.HASH_QUEUE_TIMEOUT_MS,
      // A shorter budget refuses what a closed loop of a few callers per worker would have
      // waited for; the timeout already says how long a wait may be.
      queueBudgetMs: Math.min(
        e.HASH_QUEUE_BUDGET_MS ?? e.HASH_QUEUE_TIMEOUT_MS,
        e.HASH_QUEUE_TIMEOUT_MS,
      ),
    },
  }
}
