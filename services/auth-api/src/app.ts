import { createServiceApp } from '@users-auth/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Gauge, Histogram } from 'prom-client'
import type { Config } from './config.js'
import { requireServiceCredential } from './credential-guard.js'
import type { KeyRing } from './crypto/key-ring.js'
import { PasswordHasher } from './crypto/password-hasher.js'
import { createTokenSigner } from './crypto/token-signer.js'
import type { TotpCipher } from './crypto/totp-keys.js'
import credentialRoutes from './routes/credential/index.js'
import jwksRoutes from './routes/jwks/index.js'
import loginRoutes from './routes/logins/index.js'
import passwordRoutes from './routes/passwords/index.js'
import tokenRoutes from './routes/tokens/index.js'
import totpRoutes from './routes/totp/index.js'

export interface AuthApiDeps {
  config: Config
  logger: FastifyBaseLogger
  keyRing: KeyRing
  /** Seals and opens TOTP secrets (TOTP_ENCRYPTION_KEYS). */
  totpCipher: TotpCipher
  /** Clock for token timestamps, ms since the epoch. */
  now?: () => number
}

export async function buildApp(deps: AuthApiDeps): Promise<FastifyInstance> {
  const { config, keyRing } = deps
  const { app, metrics } = await createServiceApp({
    logger: deps.logger,
    openapi: {
      title: 'auth-api',
      version: '1.0.0',
      description:
        "Internal: argon2id password hashing, access-token signing and the second factor's TOTP crypto. Requires the service credential.",
      bearer: 'service-credential',
      internal: true,
      tags: [
        { name: 'passwords', description: 'argon2id hashing and verification.' },
        { name: 'tokens', description: 'Access-token signing.' },
        { name: 'totp', description: 'TOTP secrets: sealed enrolment and code checks.' },
        { name: 'credential', description: 'The service credential check.' },
        { name: 'keys', description: 'The public keys that verify access tokens.' },
      ],
    },
    readiness: [
      {
        name: 'keys',
        check: () =>
          keyRing.jwks.keys.length > 0 ? Promise.resolve() : Promise.reject(new Error('no keys')),
      },
    ],
  })

  const hashSeconds = new Histogram({
    name: 'auth_password_job_duration_seconds',
    help: 'argon2 hash and verify durations',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [metrics],
  })
  const waitSeconds = new Histogram({
    name: 'auth_password_queue_wait_seconds',
    help: 'How long hash and verify jobs waited for a worker',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [metrics],
  })
  const hasher = new PasswordHasher({
    params: config.argon2,
    concurrency: config.hashing.concurrency,
    queueLimit: config.hashing.queueLimit,
    queueTimeoutMs: config.hashing.queueTimeoutMs,
    queueBudgetMs: config.hashing.queueBudgetMs,
    onJob: (operation, seconds) => {
      hashSeconds.observe({ operation }, seconds)
    },
    onWait: (seconds) => {
      waitSeconds.observe(seconds)
    },
  })
  new Gauge({
    name: 'auth_password_queue_depth',
    help: 'Hash/verify jobs waiting for a worker',
    registers: [metrics],
    collect() {
      this.set(hasher.queueDepth)
    },
  })
  await hasher.init()

  const signToken = createTokenSigner({
    keyRing,
    issuer: config.issuer,
    audience: config.audience,
    ttlSeconds: config.accessTokenTtlSeconds,
    ...(deps.now ? { now: deps.now } : {}),
  })

  // The route table.
  await app.register(
    async (v1) => {
      requireServiceCredential(v1, config.credentials)
      await v1.register(passwordRoutes, { prefix: '/passwords', hasher })
      await v1.register(tokenRoutes, { prefix: '/tokens', signToken })
      await v1.register(loginRoutes, { prefix: '/logins', hasher, signToken })
      await v1.register(credentialRoutes, { prefix: '/credential' })
      await v1.register(totpRoutes, {
        prefix: '/totp',
        cipher: deps.totpCipher,
        now: deps.now ?? Date.now,
      })
    },
    { prefix: '/v1' },
  )
  await app.register(jwksRoutes, { prefix: '/.well-known', jwks: keyRing.jwks })
  return app
}
