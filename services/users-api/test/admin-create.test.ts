import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  credential,
  get,
  goodPassword,
  login,
  post,
  signup,
  startPair,
  type Pair,
} from './pair-harness.js'

// admin:create as an operator runs it: its own process, the password on stdin, against a real
// auth-api and the pair's MongoDB database.

const adminPassword = 'a long admin pass phrase'

interface Run {
  code: number | null
  out: string
}

function runAdminCreate(args: string[], stdin: string, env: Record<string, string>): Promise<Run> {
  const cwd = fileURLToPath(new URL('..', import.meta.url))
  const child = spawn('pnpm', ['--silent', 'admin:create', ...args], {
    cwd,
    // NODE_ENV=test: the repository's .env (a development convenience) is not read.
    env: { ...process.env, NODE_ENV: 'test', INTERNAL_API_TOKEN: credential, ...env },
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  child.stdin.end(stdin)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      resolve({ code, out })
    })
  })
}

function against(pair: Pair): Record<string, string> {
  return { MONGODB_URI: pair.mongoUri, AUTH_API_URL: pair.authUrl }
}

async function roles(pair: Pair, email: string): Promise<string[] | undefined> {
  const user = await pair.db.collection('users').findOne({ email })
  return user?.roles as string[] | undefined
}

/** A port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

// Each run of the command is a process of its own: generous time on a busy machine.
describe('admin:create', { timeout: 240_000 }, () => {
  it('creates a new admin from the password on stdin, who can then log in as admin', async () => {
    const pair = await startPair()
    const run = await runAdminCreate(['--email', 'Ops@Example.com'], `${adminPassword}\n`, {
      ...against(pair),
    })
    expect(run, run.out).toMatchObject({ code: 0 })
    expect(run.out).toContain('created ops@example.com')
    expect(run.out).not.toContain(adminPassword)
    const admin = await login(pair.users, 'ops@example.com', adminPassword)
    expect(admin.user.roles).toEqual(['user', 'admin'])
    expect((await get(pair.users, '/v1/users', admin.accessToken)).statusCode).toBe(200)
  })

  it('refuses an existing email without --promote, leaving the account as it was', async () => {
    const pair = await startPair()
    // Someone registered the address first, with a password of their own.
    await signup(pair.users, 'ops@example.com')
    const run = await runAdminCreate(['--email', 'ops@example.com'], adminPassword, against(pair))
    expect(run.code).toBe(1)
    expect(run.out).toMatch(/ops@example\.com already exists.*--promote/)
    expect(await roles(pair, 'ops@example.com')).toEqual(['user'])
    expect((await login(pair.users, 'ops@example.com', goodPassword)).user.roles).toEqual(['user'])
    const withOperatorsPassword = await post(pair.users, '/v1/auth/login', {
      email: 'ops@example.com',
      password: adminPassword,
    })
    expect(withOperatorsPassword.statusCode).toBe(401)
  })

  it('promotes an existing account with --promote and that account’s current password', async () => {
    const pair = await startPair()
    await signup(pair.users, 'later@example.com')
    const env = against(pair)
    const [wrong, unknown] = await Promise.all([
      runAdminCreate(['--email', 'later@example.com', '--promote'], adminPassword, env),
      runAdminCreate(['--email', 'nobody@example.com', '--promote'], adminPassword, env),
    ])
    expect(wrong.code).toBe(1)
    expect(wrong.out).toContain('not the current password of later@example.com')
    expect(wrong.out).not.toContain(adminPassword)
    expect(unknown.code).toBe(1)
    expect(unknown.out).toContain('no account has the email nobody@example.com')
    expect(await roles(pair, 'later@example.com')).toEqual(['user'])
    expect(await pair.db.collection('users').countDocuments()).toBe(1)

    const promoted = await runAdminCreate(
      ['--email', 'later@example.com', '--promote'],
      `${goodPassword}\n`,
      env,
    )
    expect(promoted, promoted.out).toMatchObject({ code: 0 })
    expect(promoted.out).toContain('promoted later@example.com')
    const admin = await login(pair.users, 'later@example.com')
    expect(admin.user.roles).toEqual(['user', 'admin'])
    expect((await get(pair.users, '/v1/users', admin.accessToken)).statusCode).toBe(200)

    const again = await runAdminCreate(
      ['--email', 'later@example.com', '--promote'],
      goodPassword,
      env,
    )
    expect(again.out).toContain('already admin later@example.com')
  })

  it('refuses a password the policy refuses, with the reason and without echoing it', async () => {
    const pair = await startPair()
    const env = against(pair)
    const runs = await Promise.all(
      [
        ['short', /at least 15/],
        ['password1234567', /too easy to guess/],
        ['ops@example.com2026', /email/],
      ].map(async ([password, reason]) => ({
        password: password as string,
        reason: reason as RegExp,
        run: await runAdminCreate(['--email', 'ops@example.com'], password as string, env),
      })),
    )
    for (const { password, reason, run } of runs) {
      expect(run.code, run.out).toBe(1)
      expect(run.out).toMatch(reason)
      expect(run.out).not.toContain(password)
    }
    expect(await pair.db.collection('users').countDocuments()).toBe(0)
  })

  it('names what it could not reach, and why, without the credentials', async () => {
    const pair = await startPair()
    const [mongoPort, authPort] = await Promise.all([closedPort(), closedPort()])
    const [noMongo, noAuthApi, wrongCredential, noUri] = await Promise.all([
      runAdminCreate(['--email', 'ops@example.com'], adminPassword, {
        MONGODB_URI: `mongodb://ops:secret-db-password@127.0.0.1:${mongoPort}/users`,
        MONGODB_TIMEOUT_MS: '500',
      }),
      runAdminCreate(['--email', 'ops@example.com'], adminPassword, {
        MONGODB_URI: pair.mongoUri,
        AUTH_API_URL: `http://127.0.0.1:${authPort}`,
      }),
      runAdminCreate(['--email', 'ops@example.com'], adminPassword, {
        ...against(pair),
        INTERNAL_API_TOKEN: 'not-the-credential-auth-api-runs-with',
      }),
      runAdminCreate(['--email', 'ops@example.com'], adminPassword, { MONGODB_URI: '' }),
    ])
    expect(noMongo.code).toBe(1)
    expect(noMongo.out).toMatch(
      new RegExp(
        `MongoDB at mongodb://\\S*@127\\.0\\.0\\.1:${mongoPort}/users is not reachable: .*ECONNREFUSED`,
      ),
    )
    expect(noMongo.out).not.toContain('secret-db-password')
    expect(noAuthApi.code).toBe(1)
    expect(noAuthApi.out).toMatch(
      new RegExp(`auth-api at http://127\\.0\\.0\\.1:${authPort} is unavailable: .*ECONNREFUSED`),
    )
    expect(wrongCredential.code).toBe(1)
    expect(wrongCredential.out).toContain(
      `auth-api at ${pair.authUrl} refused the service credential (401)`,
    )
    expect(wrongCredential.out).not.toContain('not-the-credential')
    expect(noUri.code).toBe(1)
    expect(noUri.out).toContain('MONGODB_URI is not set')
    expect(await pair.db.collection('users').countDocuments()).toBe(0)
  })
})
