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

const EnvSchema = Type.Object({
  ...serviceEnvFields(3000),
  MONGODB_URI: Type.Optional(Type.String()),
  MONGODB_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 3000 }),
  AUTH_API_URL: Type.String({ default: 'http://127.0.0.1:4000' }),
  AUTH_API_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 1000 }),
  AUTH_API_DEADLINE_MS: Type.Integer({ minimum: 50, default: 2000 }),
  AUTH_API_BREAKER_HALF_OPEN_MS: Type.Integer({ minimum: 100, maximum: 10_000, default: 5000 }),
  INTERNAL_API_TOKEN: Type.Optional(Type.String()),
  JWT_ISSUER: Type.String({ default: 'users-auth' }),
  JWT_AUDIENCE: Type.String({ default: 'users-auth' }),
  REFRESH_TOKEN_TTL: Type.String({ default: '30d' }),
  SESSION_MAX_LIFETIME: Type.String({ default: '90d' }),
  REFRESH_REUSE_GRACE: Type.String({ default: '0s' }),
  REDIS_URL: Type.Optional(Type.String()),
  REDIS_PREFIX: Type.String({ default: 'users-auth:' }),
  RATE_LIMIT_IP_MAX: Type.Integer({ minimum: 1, default: 30 }),
  RATE_LIMIT_IP_WINDOW: Type.String({ default: '1m' }),
  LOCKOUT_THRESHOLD: Type.Integer({ minimum: 1, maximum: 50, default: 5 }),
  LOCKOUT_BASE_DELAY: Type.String({ default: '1s' }),
  LOCKOUT_MAX_DELAY: Type.String({ default: '15m' }),
  LOCKOUT_HARD_LIMIT: Type.Integer({ minimum: 2, maximum: 99, default: 20 }),
  LOCKOUT_MEMORY: Type.String({ default: '24h' }),
  LOCKOUT_TRUSTED_PAIR_TTL: Type.String({ default: '30d' }),
  PASSWORD_MIN_LENGTH: Type.Integer({ minimum: 8, maximum: 128, default: 15 }),
  TRUSTED_PROXIES: Type.Optional(Type.String()),
  CORS_ORIGINS: Type.Optional(Type.String()),
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
  }
}
