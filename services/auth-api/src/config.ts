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

const EnvSchema = Type.Object({
  ...serviceEnvFields(4000),
  INTERNAL_API_TOKEN: Type.Optional(Type.String()),
  JWT_PRIVATE_KEYS: Type.Optional(Type.String()),
  JWT_ISSUER: Type.String({ default: 'users-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'users-auth' }),
  ACCESS_TOKEN_TTL: Type.String({ default: '15m' }),
  ARGON2_MEMORY_KIB: Type.Integer({ minimum: 1024, default: 19456 }),
  ARGON2_ITERATIONS: Type.Integer({ minimum: 1, default: 2 }),
  ARGON2_PARALLELISM: Type.Integer({ minimum: 1, maximum: 16, default: 1 }),
  HASH_THREADS: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })),
  HASH_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 128 })),
  HASH_QUEUE_LIMIT: Type.Optional(Type.Integer({ minimum: 0 })),
  HASH_QUEUE_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 500 }),
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
    },
  }
}
