import { ConfigError, createLogger, listenWithGracefulShutdown } from '@users-auth/service-kit'
import { loadConfig, type Config } from './config.js'

// The only module that reads the environment and listens.
function configOrExit(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`auth-api: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}

const config = configOrExit()
// argon2 runs on libuv's pool, which is sized once, before its first use.
process.env.UV_THREADPOOL_SIZE = String(config.hashing.threads)

const { buildApp } = await import('./app.js')
const { generateKeyRing, KeyConfigError, loadKeyRing } = await import('./crypto/key-ring.js')

const logger = createLogger({ level: config.logLevel, base: { service: 'auth-api' } })
let keyRing
try {
  keyRing = config.privateKeys ? await loadKeyRing(config.privateKeys) : await generateKeyRing()
} catch (error) {
  if (!(error instanceof KeyConfigError)) throw error
  process.stderr.write(`auth-api: JWT_PRIVATE_KEYS: ${error.message}\n`)
  process.exit(1)
}
if (keyRing.source === 'generated') {
  logger.warn(
    'no JWT_PRIVATE_KEYS: signing with an ephemeral development key (tokens die at restart)',
  )
}
if (
  config.credentials.length === 1 &&
  config.mode !== 'production' &&
  !process.env.INTERNAL_API_TOKEN
) {
  logger.warn('no INTERNAL_API_TOKEN: accepting the development credential')
}

const app = await buildApp({ config, logger, keyRing })
await listenWithGracefulShutdown(app, { port: config.port, host: config.host })
