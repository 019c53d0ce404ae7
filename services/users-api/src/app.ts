import cors from '@fastify/cors'
import { AuthApiUnavailableError, type AuthApiClient } from '@users-auth/auth-contract'
import { createServiceApp, withRetryAfter } from '@users-auth/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { registerAuthentication } from './auth/authenticate.js'
import { JwksCache } from './auth/jwks-cache.js'
import type { Config } from './config.js'
import { isDatabaseUnavailable, type Database } from './db/database.js'
import { createAccounts } from './domain/accounts.js'
import { createSessions } from './domain/sessions.js'
import { ServiceUnavailable } from './errors.js'
import authRoutes from './routes/auth/index.js'
import userRoutes from './routes/users/index.js'
import wellKnownRoutes from './routes/well-known/index.js'

export interface UsersApiDeps {
  config: Config
  logger: FastifyBaseLogger
  /** Owned by the app from here on: closed when the app closes. */
  db: Database
  /** Owned by the app from here on: closed when the app closes. */
  authApi: AuthApiClient
  now?: () => Date
}

export async function buildApp(deps: UsersApiDeps): Promise<FastifyInstance> {
  const { config, db, authApi, logger } = deps
  const jwks = new JwksCache(authApi, { minRefetchMs: 5000, refreshEveryMs: 5 * 60_000 })

  const { app } = await createServiceApp({
    logger,
    openapi: {
      title: 'users-api',
      version: '1.0.0',
      description:
        'Accounts and sessions: signup, login, refresh, logout, profile, sessions, admin.',
      bearerAuth: true,
    },
    trustProxy: config.trustedProxies,
    readiness: [
      { name: 'mongodb', check: () => db.ping() },
      {
        name: 'auth-api keys',
        check: async () => {
          if (!jwks.current) await jwks.refresh()
        },
      },
    ],
    errorMappers: [
      (error) =>
        isDatabaseUnavailable(error) ? withRetryAfter(new ServiceUnavailable(), 5) : undefined,
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

  jwks.start((error) => {
    logger.warn({ err: error }, 'could not fetch auth-api keys')
  })
  app.addHook('onClose', async () => {
    jwks.stop()
    await authApi.close()
    await db.close()
  })

  const domainDeps = {
    db,
    authApi,
    now: deps.now ?? (() => new Date()),
    refreshTokenTtlMs: config.refreshTokenTtlMs,
    passwordPolicy: { minLength: config.passwordMinLength },
  }
  const sessions = createSessions(domainDeps)
  const accounts = createAccounts(domainDeps, sessions)
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
      await v1.register(authRoutes, { prefix: '/auth', accounts, sessions, guards })
      await v1.register(userRoutes, { prefix: '/users', accounts, sessions, guards })
    },
    { prefix: '/v1' },
  )
  await app.register(wellKnownRoutes, { prefix: '/.well-known', jwks })
  return app
}
