import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

// `pnpm start`: both services and a MongoDB for local development, in one process. Settings
// come from the environment, then the repository's .env if there is one (the environment
// wins), then these defaults: users-api on HOST:PORT (127.0.0.1:3000), auth-api on
// HOST:AUTH_API_PORT (127.0.0.1:4000), MONGODB_URI or else an embedded MongoDB on
// 127.0.0.1:MONGO_PORT (27017), database "users". Without INTERNAL_API_TOKEN both services use
// the development credential, which admin:create also falls back to, so the README's
// admin:create command works against this stack as printed. Nothing secret is printed.
// Ctrl-C stops everything.

const credentialFromShell = Boolean(process.env.INTERNAL_API_TOKEN)
const dotenv = fileURLToPath(new URL('../.env', import.meta.url))
if (existsSync(dotenv)) process.loadEnvFile(dotenv)
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism())

const { databaseUri, redactUri, resolveMongo } = await import('@users-auth/dev-mongo')
const { createAuthApi } = await import('auth-api/create')
const { createUsersApi } = await import('users-api/create')

const defaults = { host: '127.0.0.1', usersPort: 3000, authPort: 4000, mongoPort: 27017 }
const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'development' }
const host = env.HOST ?? defaults.host
const usersPort = Number(env.PORT ?? defaults.usersPort)
const authPort = Number(env.AUTH_API_PORT ?? defaults.authPort)
const mongoPort = Number(env.MONGO_PORT ?? defaults.mongoPort)

function fail(message: string): never {
  process.stderr.write(`pnpm start: ${message}\n`)
  process.exit(1)
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'EADDRINUSE') return 'the port is in use'
  return error instanceof Error ? error.message : JSON.stringify(error)
}

const external = Boolean(env.MONGODB_URI?.trim())
const mongo = await resolveMongo({ env, port: mongoPort }).catch((error: unknown) =>
  fail(
    `could not start MongoDB on 127.0.0.1:${mongoPort}: ${reason(error)} ` +
      '(set MONGO_PORT to a free port, or MONGODB_URI to use a MongoDB that runs already)',
  ),
)
const mongodbUri = external ? mongo.uri : databaseUri(mongo.uri, 'users')

// The services' own logs say what they do; this is their host's view of where they are.
const listenHost = host.includes(':') ? `[${host}]` : host
const localHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : listenHost
const authUrl = `http://${localHost}:${authPort}`

const auth = await createAuthApi({ ...env, PORT: String(authPort), HOST: host })
await auth.app
  .listen({ port: authPort, host })
  .catch((error: unknown) =>
    fail(
      `auth-api could not listen on ${listenHost}:${authPort}: ${reason(error)} (set AUTH_API_PORT)`,
    ),
  )
const users = await createUsersApi({
  ...env,
  PORT: String(usersPort),
  HOST: host,
  MONGODB_URI: mongodbUri,
  AUTH_API_URL: authUrl,
})
await users.app
  .listen({ port: usersPort, host })
  .catch((error: unknown) =>
    fail(`users-api could not listen on ${listenHost}:${usersPort}: ${reason(error)} (set PORT)`),
  )

// How to make an admin against this stack: the README's command, with this stack's addresses
// where they differ from the defaults. A MongoDB URI that carries a password is not printed.
const shownUri = redactUri(mongodbUri)
const adminEnv = [
  `MONGODB_URI=${shownUri === mongodbUri ? mongodbUri : '"$MONGODB_URI"'}`,
  ...(authUrl === `http://127.0.0.1:${defaults.authPort}` ? [] : [`AUTH_API_URL=${authUrl}`]),
]
const mongoNote = mongo.persistent
  ? 'external: data is kept'
  : `${mongo.backend}, in memory: data is gone when this stops`
process.stderr.write(
  [
    '',
    `users-api  http://${localHost}:${usersPort}  (docs: /docs)`,
    `auth-api   ${authUrl}  (internal)`,
    `MongoDB    ${shownUri}  (${mongoNote})`,
    '',
    'Make an admin (the password goes on standard input; choose your own):',
    `  printf '%s' 'a long admin pass phrase' | ${adminEnv.join(' ')} \\`,
    '    pnpm --silent --filter users-api admin:create --email ops@example.com',
    ...(credentialFromShell
      ? ['  (with the same INTERNAL_API_TOKEN in its environment as this stack)']
      : []),
    '',
    'Ctrl-C to stop.',
    '',
    '',
  ].join('\n'),
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
