import { parseArgs } from 'node:util'
import { AuthApiClient } from '@users-auth/auth-contract'
import { loadConfig } from './config.js'
import { openDatabase } from './db/database.js'
import { normalizeEmail } from './domain/accounts.js'
import { ensureAdmin } from './domain/admin-bootstrap.js'

// `pnpm --filter users-api admin:create --email a@b.c` with the password on stdin (never in
// argv, where it would land in shell history and process listings). Uses the same environment
// variables as the service; MONGODB_URI is required since an in-memory database would vanish.
const { values } = parseArgs({ options: { email: { type: 'string' } } })
const fail = (message: string): never => {
  process.stderr.write(`admin:create: ${message}\n`)
  process.exit(1)
}
if (!values.email) fail('usage: admin:create --email <email>  (password on stdin)')
const config = loadConfig(process.env)
if (!config.mongodbUri) fail('MONGODB_URI must point at the database of the running service')

const chunks: Buffer[] = []
for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
const password = Buffer.concat(chunks)
  .toString('utf8')
  .replace(/\r?\n$/, '')

const db = openDatabase({ uri: config.mongodbUri ?? '', timeoutMs: config.mongodbTimeoutMs })
const authApi = new AuthApiClient({
  baseUrl: config.authApi.url,
  credential: config.authApi.credential,
})
try {
  // The connection (and its indexes) come up in the background: wait for them, bounded.
  const deadline = Date.now() + config.mongodbTimeoutMs * 2
  while (
    await db.ping().then(
      () => false,
      () => Date.now() < deadline,
    )
  ) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await db.ping()
  const outcome = await ensureAdmin(
    { db, authApi, now: () => new Date(), passwordPolicy: { minLength: config.passwordMinLength } },
    values.email ?? '',
    password,
  )
  process.stdout.write(`admin:create: ${outcome} ${normalizeEmail(values.email ?? '')}\n`)
} catch (error) {
  fail(error instanceof Error ? error.message : String(error))
} finally {
  await Promise.all([db.close(), authApi.close()])
}
