import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'

// `pnpm start`: both services with no configuration at all: auth-api on :4000, users-api on
// :3000, MongoDB from the workspace's resolution (the log says which), a fresh development
// credential and signing key. Ctrl-C stops everything.
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism())

const { resolveMongo } = await import('@users-auth/dev-mongo')
const { createAuthApi } = await import('auth-api/create')
const { createUsersApi } = await import('users-api/create')

const credential = randomBytes(32).toString('base64url')
const shared = {
  NODE_ENV: 'development',
  INTERNAL_API_TOKEN: credential,
  LOG_LEVEL: process.env.LOG_LEVEL,
}
const mongo = await resolveMongo({
  env: process.env,
  port: process.env.MONGO_PORT ? Number(process.env.MONGO_PORT) : undefined,
})
const auth = await createAuthApi({ ...shared, PORT: process.env.AUTH_API_PORT ?? '4000' })
await auth.app.listen({ port: auth.config.port, host: '127.0.0.1' })
const users = await createUsersApi({
  ...shared,
  PORT: process.env.PORT ?? '3000',
  MONGODB_URI: mongo.uri,
  AUTH_API_URL: `http://127.0.0.1:${auth.config.port}`,
})
await users.app.listen({ port: users.config.port, host: '127.0.0.1' })
process.stderr.write(
  `\nusers-api  http://127.0.0.1:${users.config.port}  (docs: /docs)\nauth-api   http://127.0.0.1:${auth.config.port}  (internal)\nCtrl-C to stop.\n\n`,
)

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  await users.app.close()
  await auth.app.close()
  await mongo.stop()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
