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

// argon2 runs on libuv's pool, sized from UV_THREADPOOL_SIZE when the pool first starts: for an
// ES module entry that is before any of our code runs, so only the starting environment counts.
let threads = 0
try {
  threads = loadConfig(process.env).hashing.threads
} catch (error) {
  fail(error)
}
const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4)
if (poolSize < threads) {
  process.stderr.write(
    `auth-api: HASH_THREADS is ${String(threads)} but libuv's pool has ${String(poolSize)} threads; ` +
      `start the process with UV_THREADPOOL_SIZE=${String(threads)} (the chart does)\n`,
  )
}
const { createAuthApi } = await import('./create-auth-api.js')
const { app, config } = await createAuthApi(process.env).catch(fail)
// Spans still buffered are sent once the app has closed: its last requests and shutdown work.
await listenWithGracefulShutdown(app, {
  port: config.port,
  host: config.host,
  ...(tracing ? { afterClose: () => tracing.shutdown() } : {}),
})
