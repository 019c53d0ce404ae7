import { createLogger } from '@users-auth/service-kit'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { loadConfig, type Config } from './config.js'
import { generateKeyRing, loadKeyRing, type KeyRing } from './crypto/key-ring.js'
import { generateTotpKeyEntry, parseTotpKeys, TotpCipher } from './crypto/totp-keys.js'

export interface CreateOptions {
  logger?: FastifyBaseLogger
  keyRing?: KeyRing
  now?: () => number
}

/**
 * The service as configured by an environment, built but not listening: what `server.ts`
 * runs, what the workspace's `pnpm start` embeds, and what other services' tests start.
 * Throws ConfigError or KeyConfigError with a clear message on bad configuration.
 */
export async function createAuthApi(
  env: Record<string, string | undefined>,
  options: CreateOptions = {},
): Promise<{ app: FastifyInstance; config: Config }> {
  const config = loadConfig(env)
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, base: { service: 'auth-api' } })
  const keyRing =
    options.keyRing ??
    (config.privateKeys ? await loadKeyRing(config.privateKeys) : await generateKeyRing())
  if (keyRing.source === 'generated') {
    logger.warn(
      'no JWT_PRIVATE_KEYS: signing with an ephemeral development key (tokens die at restart)',
    )
  }
  // Parsed before anything listens, so a bad key list stops the start with its own message.
  const totpCipher = new TotpCipher(parseTotpKeys(config.totpKeys ?? generateTotpKeyEntry('dev')))
  if (!config.totpKeys) {
    logger.warn(
      'no TOTP_ENCRYPTION_KEYS: sealing TOTP secrets with an ephemeral development key (enrolled second factors stop working at restart)',
    )
  }
  if (!env.INTERNAL_API_TOKEN)
    logger.warn('no INTERNAL_API_TOKEN: accepting the development credential')
  const app = await buildApp({
    config,
    logger,
    keyRing,
    totpCipher,
    ...(options.now ? { now: options.now } : {}),
  })
  return { app, config }
}
