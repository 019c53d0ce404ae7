import { startTracing } from '@users-auth/service-kit/tracing'

// The only module that reads the environment and listens. Tracing starts first and the rest is
// imported after it, so node:http and the service's modules load instrumented (when it is on).
const tracing = await startTracing(process.env, 'auth-api')
const { ConfigError, listenWithGracefulShutdown } = await import('@users-auth/service-kit')
const { loadConfig } = await import('./config.js')

function fail(error: unknown): never {
  if (error instanceof ConfigError || (error instanceof Error && error.name === 'KeyConfigError')) {
    process.stderr.write(`auth-api: ${error.message}\n`)
    process.exit(1)
  }
  throw error
}

try {
  // argon2 runs on libuv's pool, which is sized once, before its first use.
  process.env.UV_THREADPOOL_SIZE = String(loadConfig(process.env).hashing.threads)
} catch (error) {
  fail(error)
}
const { createAuthApi } = await import('./create-auth-api.js')
const { app, config } = await createAuthApi(process.env).catch(fail)
// Spans still buffered are sent once the last request is answered.
if (tracing) app.addHook('onClose', () => tracing.shutdown())
await listenWithGracefulShutdown(app, { port: config.port, host: config.host })
