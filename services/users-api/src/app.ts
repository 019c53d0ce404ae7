import cors from '@fastify/cors'
import {
  AuthApiRejectedError,
  AuthApiUnavailableError,
  type AuthApiClient,
} from '@users-auth/auth-contract'
import { createServiceApp, NotReadyState, withRetryAfter } from '@users-auth/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { registerAuthentication } from './auth/authenticate.js'
import { JwksCache } from './auth/jwks-cache.js'
import type { Config } from './config.js'
import { isDatabaseUnavailable, type Database } from './db/database.js'
import { createAccounts } from './domain/accounts.js'
import { createAdministration } from './domain/administration.js'
import { createAudit } from './domain/audit.js'
import { createAuditTrail } from './domain/audit-trail.js'
import { createEmailChange } from './domain/email-change.js'
import { createEmailVerification } from './domain/email-verification.js'
import { createMailer } from './domain/mailer.js'
import { createPasswordReset } from './domain/password-reset.js'
import { createIdentities } from './domain/identities.js'
import { createOAuthLogin } from './domain/oauth-login.js'
import { createMfaChallenges } from './domain/mfa-challenges.js'
import { createSecondFactor } from './domain/second-factor.js'
import { createSessions } from './domain/sessions.js'
import { createSignIn } from './domain/sign-in.js'
import { ServiceUnavailable } from './errors.js'
import { createProviderRegistry } from './identity-providers/provider-registry.js'
import { createOutboxSender } from './mail/outbox-sender.js'
import auditRoutes from './routes/audit/index.js'
import authRoutes from './routes/auth/index.js'
import emailRoutes from './routes/email/index.js'
import identityRoutes from './routes/identities/index.js'
import oauthRoutes from './routes/oauth/index.js'
import mfaRoutes from './routes/mfa/index.js'
import userRoutes from './routes/users/index.js'
import { openApiInfo } from './routes/openapi-info.js'
import wellKnownRoutes from './routes/well-known/index.js'
import { registerIpLimit } from './throttle/ip-limit.js'
import { MemoryLockoutStore, RedisLockoutStore } from './throttle/lockout-store.js'
import { LoginThrottle } from './throttle/login-throttle.js'
import { isRedisUnavailable } from './throttle/redis-errors.js'

export interface UsersApiDeps {
  config: Config
  logger: FastifyBaseLogger
  /** Owned by the app from here on: closed when the app closes. */
  db: Database
  /** Owned by the app from here on: closed when the app closes. */
  authApi: AuthApiClient
  /** Shared throttling state across replicas; in-process counters without it. Owned by the app. */
  redis?: Redis
  /**
   * The in-process SMTP server mail goes to when there is no SMTP_URL. Owned by the app: it
   * closes after the sender stops, or its close would wait on the sender's pooled connection.
   */
  mailSink?: { close(): Promise<void> }
  now?: () => Date
}

export async function buildApp(deps: UsersApiDeps): Promise<FastifyInstance> {
  const { config, db, authApi, logger, redis } = deps
  const jwks = new JwksCache(authApi, { minRefetchMs: 5000, refreshEveryMs: 5 * 60_000 })

  const { app, metrics } = await createServiceApp({
    logger,
    openapi: openApiInfo,
    trustProxy: config.trustedProxies,
    readiness: [
      { name: 'mongodb', check: () => db.ping() },
      ...(redis ? [{ name: 'redis', check: () => redis.ping().then(() => undefined) }] : []),
      {
        name: 'auth-api keys',
        check: async () => {
          if (!jwks.current) await jwks.refresh()
        },
      },
      {
        // Asked until auth-api accepts the credential once; after that an auth-api outage
        // turns routes into 503s but leaves the replica ready.
        name: 'auth-api credential',
        check: async () => {
          if (authApi.credentialAccepted) return
          await authApi.checkCredential().catch((error: unknown) => {
            if (!(error instanceof AuthApiRejectedError)) throw error
            logger.error({ err: error }, 'not ready: auth-api refuses the service credential')
            throw new NotReadyState('credential refused', { cause: error })
          })
        },
      },
    ],
    errorMappers: [
      (error) =>
        isDatabaseUnavailable(error) || isRedisUnavailable(error)
          ? withRetryAfter(new ServiceUnavailable(), 5)
          : undefined,
      (error) =>
        error instanceof AuthApiUnavailableError
          ? withRetryAfter(new ServiceUnavailable(), error.retryAfter)
          : undefined,
    ],
  })

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      maxAge: 600,
    })
  }

  // Per client IP, across replicas when Redis is there: signup, login, refresh and every
  // other password check share one budget.
  const ipLimit = await registerIpLimit(app, {
    ...(redis ? { redis } : {}),
    redisPrefix: config.redis.prefix,
    max: config.rateLimit.ipMax,
    windowMs: config.rateLimit.ipWindowMs,
  })
  const now = deps.now ?? (() => new Date())
  const throttle = new LoginThrottle(
    redis
      ? new RedisLockoutStore(redis, `${config.redis.prefix}login:`)
      : new MemoryLockoutStore(() => now().getTime()),
    config.lockout,
  )
  // Second-factor codes count in a budget of their own (same schedule, other counters): a
  // password guesser cannot lock out the factor, nor a code guesser the password.
  const codeThrottle = new LoginThrottle(
    redis
      ? new RedisLockoutStore(redis, `${config.redis.prefix}mfa:`)
      : new MemoryLockoutStore(() => now().getTime()),
    config.lockout,
  )

  jwks.start((error) => {
    logger.warn({ err: error }, 'could not fetch auth-api keys')
  })
  // Mail leaves through the outbox: requests write it, this loop sends it.
  const mailSender = config.mail.smtpUrl
    ? createOutboxSender({
        db,
        logger,
        metrics,
        smtpUrl: config.mail.smtpUrl,
        smtpUser: config.mail.smtpUser,
        smtpPassword: config.mail.smtpPassword,
        from: config.mail.from,
        retryBaseMs: config.mail.retryBaseMs,
        retryMaxDelayMs: config.mail.retryMaxDelayMs,
        retryForMs: config.mail.retryForMs,
        pollMs: config.mail.pollMs,
        sendTimeoutMs: config.mail.sendTimeoutMs,
      })
    : undefined
  if (!mailSender) logger.warn('no SMTP_URL: mail stays in the outbox until a sender has one')
  app.addHook('onReady', () => {
    mailSender?.start()
  })
  app.addHook('onClose', async () => {
    jwks.stop()
    // Each step runs even when one before it failed, so that nothing is left open; the first
    // failure is rethrown at the end.
    const failures: unknown[] = []
    const step = (close: () => Promise<void> | undefined) =>
      Promise.resolve()
        .then(close)
        .catch((error: unknown) => {
          failures.push(error)
        })
    await step(() => authApi.close())
    // Mail work that followed an answer, and the sender, finish before MongoDB closes.
    await step(async () => {
      await passwordReset.settled()
      await mailSender?.stop()
    })
    await step(() => deps.mailSink?.close())
    await step(() => db.close())
    redis?.disconnect()
    if (failures.length > 0) throw failures[0]
  })

  const domainDeps = {
    db,
    authApi,
    now,
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    sessionMaxLifetimeMs: config.sessionMaxLifetimeMs,
    refreshReuseGraceMs: config.refreshReuseGraceMs,
    passwordPolicy: { minLength: config.passwordMinLength },
    throttle,
    codeThrottle,
    totpIssuer: config.totpIssuer,
    audit: createAudit({ db, logger, now, retentionMs: config.auditRetentionMs }),
  }
  const sessions = createSessions(domainDeps)
  const signIn = createSignIn(sessions, domainDeps.audit, createMfaChallenges(domainDeps), {
    requireEmailVerification: config.mail.requireVerification,
  })
  const mailer = createMailer({
    db,
    now,
    appUrl: config.mail.appUrl,
    subjectPrefix: config.mail.subjectPrefix,
    retryForMs: config.mail.retryForMs,
    onQueued: () => mailSender?.queued(),
  })
  const verification = createEmailVerification(domainDeps, mailer)
  const accounts = createAccounts(domainDeps, sessions, signIn, {
    welcome: (user, ctx) => verification.send(user, ctx, true),
    requireVerification: config.mail.requireVerification,
  })
  const administration = createAdministration(domainDeps, sessions)
  const passwordReset = createPasswordReset(domainDeps, mailer, sessions, logger)
  const emailChange = createEmailChange(domainDeps, mailer, sessions, accounts)
  const identities = createIdentities(domainDeps, sessions)
  const oauthLogin = createOAuthLogin({
    ...domainDeps,
    social: config.social,
    providers: createProviderRegistry(config.social),
    identities,
    signIn,
    logger,
  })
  const secondFactor = createSecondFactor(domainDeps, sessions, signIn, accounts)
  const guards = await registerAuthentication(app, {
    jwks,
    sessions,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  })

  // The route table.
  await app.register(
    async (v1) => {
      // Everything under /v1 is personal or carries tokens: no cache may keep it.
      v1.addHook('onSend', (_request, reply, payload, done) => {
        reply.header('cache-control', 'no-store')
        done(null, payload)
      })
      await v1.register(authRoutes, {
        prefix: '/auth',
        ...{ accounts, sessions, guards, ipLimit },
        // auth-api just refused for lack of capacity: so is this, before it costs anything.
        hashCapacity: () => {
          const busy = authApi.busy()
          return busy ? Promise.reject(busy) : Promise.resolve()
        },
      })
      await v1.register(userRoutes, {
        prefix: '/users',
        accounts,
        administration,
        sessions,
        guards,
        ipLimit,
      })
      await v1.register(auditRoutes, { auditTrail: createAuditTrail(db), guards })
      await v1.register(emailRoutes, {
        verification,
        passwordReset,
        emailChange,
        guards,
        ipLimit,
      })
      await v1.register(oauthRoutes, {
        prefix: '/auth/oauth',
        oauthLogin,
        ipLimit,
        publicUrl: config.social.publicUrl,
      })
      await v1.register(identityRoutes, {
        prefix: '/users/me/identities',
        identities,
        oauthLogin,
        guards,
        ipLimit,
      })
      await v1.register(mfaRoutes, { secondFactor, guards, ipLimit })
    },
    { prefix: '/v1' },
  )
  await app.register(wellKnownRoutes, { prefix: '/.well-known', jwks })
  return app
}
