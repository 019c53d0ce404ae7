import { existsSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  AuthApiClient,
  AuthApiRejectedError,
  AuthApiUnavailableError,
} from '@users-auth/auth-contract'
import { Redis } from 'ioredis'
import { redactConnectionString } from 'mongodb-connection-string-url'
import { loadConfig, type Config } from './config.js'
import { isDatabaseUnavailable, openDatabase, type Database } from './db/database.js'
import { redisPrincipalStamps, type PrincipalStamps } from './db/principal-stamps.js'
import { normalizeEmail } from './domain/accounts.js'
import { AdminRefused, ensureAdmin } from './domain/admin-bootstrap.js'

// `pnpm --filter users-api admin:create --email a@b.c [--promote]` with the password on stdin
// (never in argv, where it would land in shell history and process listings). Uses the same
// environment variables as the service; MONGODB_URI is required since an in-memory database
// would vanish. Outside production it also reads the repository's .env, as `pnpm start` does,
// so both agree on the service credential.

const usage =
  'usage: admin:create --email <email> [--promote]  (password on standard input)\n' +
  '  creates a new admin account; with --promote, gives the admin role to an existing\n' +
  "  account instead, and the password must be that account's current one"

function fail(message: string): never {
  process.stderr.write(`admin:create: ${message}\n`)
  process.exit(1)
}

function parseArguments(): { email: string; promote: boolean } {
  try {
    const { values } = parseArgs({
      options: { email: { type: 'string' }, promote: { type: 'boolean', default: false } },
    })
    if (!values.email) fail(usage)
    return { email: values.email, promote: values.promote }
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\n${usage}`)
  }
}
const args = parseArguments()

const dotenv = fileURLToPath(new URL('../../../.env', import.meta.url))
if (process.env.NODE_ENV !== 'production' && existsSync(dotenv)) process.loadEnvFile(dotenv)

function configuration(): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
}
const config = configuration()
const mongodbUri = config.mongodbUri
if (!mongodbUri) {
  fail(
    "MONGODB_URI is not set: point it at the running service's database " +
      '(`pnpm start` prints the one it uses)',
  )
}
if (process.stdin.isTTY) {
  fail('pipe the password on standard input (see the README), so it is neither shown nor kept')
}

const chunks: Buffer[] = []
for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
const password = Buffer.concat(chunks)
  .toString('utf8')
  .replace(/\r?\n$/, '')
if (password.length === 0) fail('no password on standard input')

const mongoAt = `MongoDB at ${redactConnectionString(mongodbUri)}`
const authApiAt = `auth-api at ${config.authApi.url}`
// With the service's Redis, a promotion reaches the principals its replicas cache at once.
const redis = config.redis.url
  ? new Redis(config.redis.url, {
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      commandTimeout: 2000,
    })
  : undefined
redis?.on('error', () => undefined)
const db = await connect(
  mongodbUri,
  config.mongodbTimeoutMs,
  redis ? redisPrincipalStamps(redis, config.redis.prefix) : undefined,
)
const authApi = new AuthApiClient({
  baseUrl: config.authApi.url,
  credential: config.authApi.credential,
  connectTimeoutMs: config.authApi.connectTimeoutMs,
  deadlineMs: config.authApi.deadlineMs,
})
try {
  const outcome = await ensureAdmin(
    { db, authApi, now: () => new Date(), passwordPolicy: { minLength: config.passwordMinLength } },
    args.email,
    password,
    { promote: args.promote },
  )
  process.stdout.write(`admin:create: ${outcome} ${normalizeEmail(args.email)}\n`)
} catch (error) {
  fail(explain(error))
} finally {
  await Promise.all([db.close(), authApi.close()])
  redis?.disconnect()
}

/** The database once it answers, or a failure naming where it is and why it did not. */
async function connect(
  uri: string,
  timeoutMs: number,
  principalStamps: PrincipalStamps | undefined,
): Promise<Database> {
  let lastError: unknown
  const database = openDatabase({
    uri,
    timeoutMs,
    ...(principalStamps ? { principalStamps } : {}),
    onError: (error) => {
      lastError = error
    },
  })
  // The connection (and its indexes) come up in the background: wait for them, bounded.
  const deadline = Date.now() + timeoutMs * 2
  for (;;) {
    try {
      await database.ping()
      return database
    } catch (error) {
      if (isDatabaseUnavailable(error)) lastError = error
    }
    if (Date.now() > deadline) {
      await database.close()
      return fail(
        `${mongoAt} is not reachable: ${lastError ? causes(lastError) : `no answer within ${(timeoutMs * 2) / 1000} s`}`,
      )
    }
    await sleep(100)
  }
}

function explain(error: unknown): string {
  if (error instanceof AdminRefused) return error.message
  if (error instanceof AuthApiRejectedError) {
    return error.status === 401 || error.status === 403
      ? `${authApiAt} refused the service credential (${error.status}): set INTERNAL_API_TOKEN to the one auth-api runs with`
      : `${authApiAt} refused the request: ${error.message}`
  }
  if (error instanceof AuthApiUnavailableError)
    return `${authApiAt} is unavailable: ${causes(error)}`
  if (isDatabaseUnavailable(error)) return `${mongoAt} stopped answering: ${causes(error)}`
  return causes(error)
}

/** An error's message followed by those of its causes, e.g. "did not answer: connect ECONNREFUSED …". */
function causes(error: unknown): string {
  const messages: string[] = []
  // Only Error causes: the driver's cause is a topology description, not a reason.
  for (let e = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e.message && !messages.includes(e.message)) messages.push(e.message)
    e = e.cause
  }
  return messages.join(': ') || 'unknown error'
}
