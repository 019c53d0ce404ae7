import { ConfigError, listenWithGracefulShutdown } from '@users-auth/service-kit'
import { createUsersApi } from './create-users-api.js'

// The only module that reads the environment and listens.
const { app, config } = await createUsersApi(process.env).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`users-api: ${error.message}\n`)
    process.exit(1)
  }
  throw error
})
await listenWithGracefulShutdown(app, { port: config.port, host: config.host })
