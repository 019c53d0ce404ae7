import { AuthApiClient } from '@users-auth/auth-contract'
import { ConfigError, createLogger } from '@users-auth/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { redisPrincipalStamps } from './db/principal-stamps.js'
import { buildApp } from './app.js'
import { loadConfig, type Config } from './config.js'
import { openDatabase, type Database } from './db/database.js'
import { startDevMailSink } from './mail/dev-sink.js'

export interface CreateOptions {
  logger?: FastifyBaseLogger
  now?: () => Date
  /** Where the embedded mail sink (no SMTP_URL, outside production) prints; stdout by default. */
  printMail?: (line: string) => void
}

/**
 * The service as configured by an environment, built but not listening: what `server.ts`
 * runs and what the workspace's `pnpm start` embeds. Without MONGODB_URI (never in
 * production) it uses the workspace's embedded MongoDB and says so.
 */
export async function createUsersApi(
  env: Record<string, string | undefined>,
  options: CreateOptions = {},
): Promise<{ app: FastifyInstance; config: Config }> {
  const config = loadConfig(env)
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, base: { service: 'users-api' } })
  const mongo = config.mongodbUri
    ? { uri: config.mongodbUri, stop: () => Promise.resolve() }
    : await embeddedMongo(logger)
  // Fail fast rather than queue while Redis is away: the request gets a 503, not a hang.
  const redis = config.redis.url
    ? new Redis(config.redis.url, {
        maxRetriesPerRequest: 1,
        connectTimeout: 1000,
        // A Redis that accepts and never answers must not hold a request (or a logout) forever.
        commandTimeout: 2000,
        // Commands issued together travel together: one round trip per throttle step.
        enableAutoPipelining: true,
      })
    : undefined
  redis?.on('error', (error: unknown) => {
    logger.warn({ err: error }, 'Redis error')
  })
  const opened = openDatabase({
    uri: mongo.uri,
    ...(redis ? { principalStamps: redisPrincipalStamps(redis, config.redis.prefix) } : {}),
    timeoutMs: config.mongodbTimeoutMs,
    onError: (error) => {
      logger.warn({ err: error }, 'MongoDB not reachable; retrying')
    },
  })
  // The app closes its clients once every request is answered; an embedded MongoDB stops
  // only after the connection to it is closed.
  const db: Database = {
    ...opened,
    close: async () => {
      await opened.close()
      await mongo.stop()
    },
  }
  const authApi = new AuthApiClient({
    baseUrl: config.authApi.url,
    credential: config.authApi.credential,
    connectTimeoutMs: config.authApi.connectTimeoutMs,
    deadlineMs: config.authApi.deadlineMs,
    breakerHalfOpenAfterMs: config.authApi.breakerHalfOpenAfterMs,
  })
  // Outside production without SMTP_URL, mail goes to a sink in this process that prints it.
  const sink =
    config.mail.smtpUrl || config.mode === 'production'
      ? undefined
      : await startDevMailSink(
          options.printMail ??
            ((line) => {
              process.stdout.write(`${line}\n`)
            }),
        )
  if (sink) logger.info('no SMTP_URL: mail is printed here, one line per mail')
  const app = await buildApp({
    config: sink ? { ...config, mail: { ...config.mail, smtpUrl: sink.url } } : config,
    logger,
    db,
    authApi,
    ...(redis ? { redis } : {}),
    ...(sink ? { mailSink: sink } : {}),
    ...(options.now ? { now: options.now } : {}),
  })
  return { app, config }
}

/**
 * The workspace's embedded MongoDB, loaded only when needed: never in a production process.
 * It is a development dependency, so a deployed service (an image) does not have it.
 */
async function embeddedMongo(
  logger: FastifyBaseLogger,
): Promise<{ uri: string; stop: () => Promise<void> }> {
  const { resolveMongo } = await import('@users-auth/dev-mongo').catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ConfigError(
        'set MONGODB_URI; the embedded MongoDB is for development checkouts only',
      )
    }
    throw error
  })
  return resolveMongo({
    env: {},
    log: (line) => {
      logger.warn(line)
    },
  })
}
