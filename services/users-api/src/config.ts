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
import type { LockoutPolicy } from './throttle/login-throttle.js'

/** Every variable users-api reads; the README's table is generated from these descriptions. */
export const EnvSchema = Type.Object({
  ...serviceEnvFields(3000),
  MONGODB_URI: Type.Optional(
    Type.String({
      description:
        'MongoDB connection string. Required in production; unset elsewhere: the embedded development MongoDB.',
    }),
  ),
  MONGODB_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 3000,
    description: 'Server-selection bound: how fast a request learns MongoDB is down (then 503).',
  }),
  AUTH_API_URL: Type.String({
    default: 'http://127.0.0.1:4000',
    description: 'Where auth-api is.',
  }),
  AUTH_API_CONNECT_TIMEOUT_MS: Type.Integer({
    minimum: 10,
    default: 1000,
    description: 'Connect timeout for calls to auth-api.',
  }),
  AUTH_API_DEADLINE_MS: Type.Integer({
    minimum: 50,
    default: 2000,
    description: 'Whole-call deadline for a call to auth-api, its one retry included.',
  }),
  AUTH_API_BREAKER_HALF_OPEN_MS: Type.Integer({
    minimum: 100,
    maximum: 10_000,
    default: 5000,
    description: 'How long the circuit breaker fails fast before trying auth-api again.',
  }),
  INTERNAL_API_TOKEN: Type.Optional(
    Type.String({
      description:
        'The service credential presented to auth-api (the first of a comma list). Required in production, at least 32 characters; the development credential elsewhere.',
    }),
  ),
  JWT_ISSUER: Type.String({ default: 'users-auth', description: "Access tokens' required `iss`." }),
  JWT_AUDIENCE: Type.String({
    default: 'users-auth',
    description: "Access tokens' required `aud`.",
  }),
  REFRESH_TOKEN_TTL: Type.String({
    default: '30d',
    description: 'Idle lifetime of a session; each refresh moves it on.',
  }),
  SESSION_MAX_LIFETIME: Type.String({
    default: '90d',
    description: 'Absolute lifetime of a session from its login, however often it is refreshed.',
  }),
  REFRESH_REUSE_GRACE: Type.String({
    default: '0s',
    description:
      'Retry window (at most 60 s; 0 is off) in which presenting the just-rotated refresh token returns the same new pair instead of revoking the session.',
  }),
  REDIS_URL: Type.Optional(
    Type.String({
      description:
        'Redis for throttling state shared by replicas; unset: counters live in this process (one replica only).',
    }),
  ),
  REDIS_PREFIX: Type.String({
    default: 'users-auth:',
    description: 'Prefix of every Redis key this service writes.',
  }),
  RATE_LIMIT_IP_MAX: Type.Integer({
    minimum: 1,
    default: 30,
    description:
      'Requests per client IP and window to signup, login, refresh and every other password check.',
  }),
  RATE_LIMIT_IP_WINDOW: Type.String({ default: '1m', description: 'The per-IP window.' }),
  LOCKOUT_THRESHOLD: Type.Integer({
    minimum: 1,
    maximum: 50,
    default: 5,
    description: 'Consecutive failed password checks before attempts on the account are delayed.',
  }),
  LOCKOUT_BASE_DELAY: Type.String({
    default: '1s',
    description: 'The first delay; it doubles with each further failure.',
  }),
  LOCKOUT_MAX_DELAY: Type.String({ default: '15m', description: 'The longest delay.' }),
  LOCKOUT_HARD_LIMIT: Type.Integer({
    minimum: 2,
    maximum: 99,
    default: 20,
    description:
      'Consecutive failures after which the account takes no more guesses until LOCKOUT_MEMORY passes.',
  }),
  LOCKOUT_MEMORY: Type.String({
    default: '24h',
    description: 'How long failures are remembered.',
  }),
  LOCKOUT_TRUSTED_PAIR_TTL: Type.String({
    default: '30d',
    description:
      "How long a successful login marks its (account, IP) pair as the owner's, judged only by its own failures.",
  }),
  PASSWORD_MIN_LENGTH: Type.Integer({
    minimum: 8,
    maximum: 128,
    default: 15,
    description: 'Minimum password length in code points after NFKC.',
  }),
  TRUSTED_PROXIES: Type.Optional(
    Type.String({
      description:
        'Proxy addresses or CIDRs whose X-Forwarded-For is believed, hop by hop; unset: the socket address.',
    }),
  ),
  CORS_ORIGINS: Type.Optional(
    Type.String({
      description: 'Allowed browser origins, comma-separated; unset: CORS off; `*` is refused.',
    }),
  ),
  TOTP_ISSUER: Type.String({
    default: 'users-auth',
    minLength: 1,
    maxLength: 64,
    pattern: '^[^:]+$',
    description: 'The issuer an authenticator app shows beside the account (no colon).',
  }),
  AUDIT_RETENTION: Type.String({
    default: '90d',
    description: 'How long audit events are kept (a TTL index removes older ones).',
  }),
})

export interface Config {
  mode: Mode
  port: number
  host: string
  logLevel: string
  /** Absent outside production: the workspace's embedded MongoDB is used. */
  mongodbUri: string | undefined
  mongodbTimeoutMs: number
  authApi: {
    url: string
    credential: string
    connectTimeoutMs: number
    deadlineMs: number
    breakerHalfOpenAfterMs: number
  }
  jwt: { issuer: string; audience: string }
  refreshTokenTtlMs: number
  /** Absolute lifetime of a session from its login. */
  sessionMaxLifetimeMs: number
  /** Retry window for a rotated refresh token; 0 is off. */
  refreshReuseGraceMs: number
  redis: { url: string | undefined; prefix: string }
  rateLimit: { ipMax: number; ipWindowMs: number }
  lockout: LockoutPolicy
  passwordMinLength: number
  trustedProxies: string[]
  corsOrigins: string[]
  auditRetentionMs: number
  totpIssuer: string
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const e = parseEnv(EnvSchema, env)
  const credential = parseList(e.INTERNAL_API_TOKEN)[0]
  const corsOrigins = parseList(e.CORS_ORIGINS)
  if (e.LOCKOUT_HARD_LIMIT <= e.LOCKOUT_THRESHOLD) {
    throw new ConfigError('LOCKOUT_HARD_LIMIT must be above LOCKOUT_THRESHOLD')
  }
  const refreshTokenTtlMs = parseDuration(e.REFRESH_TOKEN_TTL)
  const sessionMaxLifetimeMs = parseDuration(e.SESSION_MAX_LIFETIME)
  const refreshReuseGraceMs = parseDuration(e.REFRESH_REUSE_GRACE)
  if (sessionMaxLifetimeMs <= 0) throw new ConfigError('SESSION_MAX_LIFETIME must be above 0')
  // A grace is for a retry after a lost answer: seconds, not a second way to keep a session.
  if (refreshReuseGraceMs > 60_000) throw new ConfigError('REFRESH_REUSE_GRACE must be at most 60s')
  const auditRetentionMs = parseDuration(e.AUDIT_RETENTION)
  if (auditRetentionMs < 60_000) throw new ConfigError('AUDIT_RETENTION must be at least 1m')
  if (corsOrigins.includes('*'))
    throw new ConfigError('CORS_ORIGINS: list origins explicitly; "*" is not allowed')
  if (e.NODE_ENV === 'production') {
    if (!e.MONGODB_URI) throw new ConfigError('MONGODB_URI is required in production')
    if (!credential || credential.length < 32) {
      throw new ConfigError('INTERNAL_API_TOKEN is required in production (at least 32 characters)')
    }
  }
  return {
    mode: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    mongodbUri: e.MONGODB_URI,
    mongodbTimeoutMs: e.MONGODB_TIMEOUT_MS,
    authApi: {
      url: e.AUTH_API_URL,
      credential: credential ?? developmentCredential,
      connectTimeoutMs: e.AUTH_API_CONNECT_TIMEOUT_MS,
      deadlineMs: e.AUTH_API_DEADLINE_MS,
      breakerHalfOpenAfterMs: e.AUTH_API_BREAKER_HALF_OPEN_MS,
    },
    jwt: { issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    refreshTokenTtlMs,
    sessionMaxLifetimeMs,
    refreshReuseGraceMs,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    rateLimit: { ipMax: e.RATE_LIMIT_IP_MAX, ipWindowMs: parseDuration(e.RATE_LIMIT_IP_WINDOW) },
    lockout: {
      threshold: e.LOCKOUT_THRESHOLD,
      baseDelayMs: parseDuration(e.LOCKOUT_BASE_DELAY),
      maxDelayMs: parseDuration(e.LOCKOUT_MAX_DELAY),
      hardLimit: e.LOCKOUT_HARD_LIMIT,
      failureMemoryMs: parseDuration(e.LOCKOUT_MEMORY),
      trustedPairTtlMs: parseDuration(e.LOCKOUT_TRUSTED_PAIR_TTL),
    },
    passwordMinLength: e.PASSWORD_MIN_LENGTH,
    trustedProxies: parseList(e.TRUSTED_PROXIES),
    corsOrigins,
    auditRetentionMs,
    totpIssuer: e.TOTP_ISSUER,
  }
}
