import { startTracing } from '@users-auth/service-kit/tracing'

// The only module that reads the environment and listens. Tracing starts first and the service
// is imported after it, so http, MongoDB and ioredis load instrumented (when it is on).
const tracing = await startTracing(process.env, 'users-api')
const { ConfigError, listenWithGracefulShutdown } = await import('@users-auth/service-kit')
const { createUsersApi } = await import('./create-users-api.js')

const { app, config } = await createUsersApi(process.env).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`users-api: ${error.message}\n`)
    process.exit(1)
  }
  throw error
})
// Spans still buffered are sent once the app has closed: its last requests and shutdown work.
await listenWithGracefulShutdown(app, {
  port: config.port,
  host: config.host,
  ...(tracing ? { afterClose: () => tracing.shutdown() } : {}),
})
