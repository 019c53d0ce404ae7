import { developmentCredential } from '@users-auth/auth-contract'
import {
  ConfigError,
  parseDuration,
  parseEnv,
  parseList,
  serviceEnvFields,
  type Mode,
} from '@users-auth/service-kit'
import { Type, type Static } from 'typebox'
import { loadSocialConfig, type SocialConfig } from './social-config.js'
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
        'Redis for throttling state shared by replicas, and for the stamps that let each replica cache the callers of authenticated requests; unset: counters live in this process (one replica only) and every authenticated request reads MongoDB.',
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
  SMTP_URL: Type.Optional(
    Type.String({
      description:
        'Where mail is delivered: `smtp://host:port` or `smtps://host:port` (credentials in the URL or in SMTP_USER/SMTP_PASSWORD). Required in production; unset elsewhere: an embedded sink prints each mail as one line.',
    }),
  ),
  SMTP_USER: Type.Optional(Type.String({ description: 'SMTP user name, if not in SMTP_URL.' })),
  SMTP_PASSWORD: Type.Optional(
    Type.String({ description: 'SMTP password, if not in SMTP_URL (keep it in a Secret).' }),
  ),
  MAIL_FROM: Type.String({
    default: 'users-auth <no-reply@localhost>',
    description: 'Sender of every mail (`Name <address>`).',
  }),
  MAIL_SUBJECT_PREFIX: Type.String({
    default: '',
    maxLength: 60,
    description: 'Put before every mail subject, e.g. the product name in brackets.',
  }),
  APP_URL: Type.Optional(
    Type.String({
      description:
        'The front end that mail links open (`${APP_URL}/reset-password#token=…`). Required in production; default elsewhere: http://127.0.0.1:3000.',
    }),
  ),
  REQUIRE_EMAIL_VERIFICATION: Type.Boolean({
    default: false,
    description:
      'Refuse sign-in (403 EMAIL_NOT_VERIFIED) until the address is verified; signup then answers without tokens.',
  }),
  MAIL_RETRY_BASE: Type.String({
    default: '30s',
    description: 'First delay before a failed mail is tried again; it doubles, with jitter.',
  }),
  MAIL_RETRY_MAX_DELAY: Type.String({
    default: '1h',
    description: 'Longest delay between two attempts at one mail.',
  }),
  MAIL_RETRY_FOR: Type.String({
    default: '48h',
    description: 'How long a mail is retried before it is given up (at least 24h).',
  }),
  MAIL_POLL_INTERVAL: Type.String({
    default: '2s',
    description: 'How often the sender looks for due mail that another replica queued.',
  }),
  MAIL_SEND_TIMEOUT: Type.String({
    default: '30s',
    description: 'Bound on each SMTP step (connect, greeting, each reply) of one attempt.',
  }),
  PUBLIC_URL: Type.Optional(
    Type.String({
      description:
        "users-api's public base URL; OAuth redirect URIs are `${PUBLIC_URL}/v1/auth/oauth/{id}/callback`. Required in production when OAUTH_PROVIDERS is set; elsewhere `http://127.0.0.1:3000`.",
    }),
  ),
  OAUTH_PROVIDERS: Type.Optional(
    Type.String({
      description:
        'Social login providers, a comma list of ids (`google`, `kakao`, `github` or any id of an OpenID Connect issuer), each configured by `OIDC_<ID>_*` variables (see below); unset: no social login.',
    }),
  ),
  OAUTH_REDIRECT_URLS: Type.Optional(
    Type.String({
      description:
        'Comma list of the URLs a social login may return to (`redirect_to`), matched exactly: scheme, host, port, path and query.',
    }),
  ),
  OAUTH_HTTP_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 30_000,
    default: 5000,
    description:
      'Bound on each call to a social login provider (discovery, keys, token, user info); past it a start answers 503 and a callback ends at `#error=temporarily_unavailable`.',
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
  mail: MailConfig
  social: SocialConfig
  totpIssuer: string
}

export interface MailConfig {
  /** Absent outside production: the embedded sink is used. */
  smtpUrl: string | undefined
  smtpUser: string | undefined
  smtpPassword: string | undefined
  from: string
  subjectPrefix: string
  appUrl: string
  requireVerification: boolean
  retryBaseMs: number
  retryMaxDelayMs: number
  retryForMs: number
  pollMs: number
  sendTimeoutMs: number
}

/** A day: the contract's least retry span for a mail. */
const minMailRetryMs = 24 * 60 * 60_000

function loadMailConfig(e: Static<typeof EnvSchema>): MailConfig {
  const production = e.NODE_ENV === 'production'
  if (production && !e.SMTP_URL) throw new ConfigError('SMTP_URL is required in production')
  if (production && !e.APP_URL) throw new ConfigError('APP_URL is required in production')
  if (e.SMTP_URL && !/^smtps?:\/\/[^/]/.test(e.SMTP_URL)) {
    throw new ConfigError('SMTP_URL must start with smtp:// or smtps://')
  }
  const appUrl = (e.APP_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]/.test(appUrl)) throw new ConfigError('APP_URL must be an http(s) URL')
  const retryForMs = parseDuration(e.MAIL_RETRY_FOR)
  if (retryForMs < minMailRetryMs) throw new ConfigError('MAIL_RETRY_FOR must be at least 24h')
  const retryBaseMs = parseDuration(e.MAIL_RETRY_BASE)
  const retryMaxDelayMs = parseDuration(e.MAIL_RETRY_MAX_DELAY)
  if (retryBaseMs <= 0 || retryMaxDelayMs < retryBaseMs) {
    throw new ConfigError('MAIL_RETRY_BASE must be above 0 and at most MAIL_RETRY_MAX_DELAY')
  }
  const pollMs = parseDuration(e.MAIL_POLL_INTERVAL)
  const sendTimeoutMs = parseDuration(e.MAIL_SEND_TIMEOUT)
  if (pollMs <= 0 || sendTimeoutMs <= 0) {
    throw new ConfigError('MAIL_POLL_INTERVAL and MAIL_SEND_TIMEOUT must be above 0')
  }
  return {
    smtpUrl: e.SMTP_URL,
    smtpUser: e.SMTP_USER,
    smtpPassword: e.SMTP_PASSWORD,
    from: e.MAIL_FROM,
    subjectPrefix: e.MAIL_SUBJECT_PREFIX,
    appUrl,
    requireVerification: e.REQUIRE_EMAIL_VERIFICATION,
    retryBaseMs,
    retryMaxDelayMs,
    retryForMs,
    pollMs,
    sendTimeoutMs,
  }
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
    mail: loadMailConfig(e),
    social: loadSocialConfig(env, {
      mode: e.NODE_ENV,
      publicUrl: e.PUBLIC_URL,
      providers: e.OAUTH_PROVIDERS,
      redirectUrls: e.OAUTH_REDIRECT_URLS,
      httpTimeoutMs: e.OAUTH_HTTP_TIMEOUT_MS,
    }),
    totpIssuer: e.TOTP_ISSUER,
  }
}
