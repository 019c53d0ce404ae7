import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { databaseUri } from '@users-auth/dev-mongo'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { cheapArgon2, credential, goodPassword } from './pair-harness.js'

const servicesDir = fileURLToPath(new URL('../..', import.meta.url))
const children: ChildProcess[] = []
const servers: Server[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  for (const server of servers.splice(0)) server.close()
})

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** A service as its container runs it: its own process, configured by environment only. */
async function startProcess(
  service: 'auth-api' | 'users-api',
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = await freePort()
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@users-auth/source', 'src/server.ts'],
    {
      cwd: `${servicesDir}${service}`,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  children.push(child)
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const url = `http://127.0.0.1:${port}`
  // Generous: the machine running the suite may be busy; this is not a speed check.
  const deadline = Date.now() + 60_000
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    )
    if (ready === 200) break
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`${service} did not become ready:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { child, url, output: () => output }
}

/** auth-api's hashing jobs so far: those that got a worker, and those waiting for one. */
async function hashingJobs(auth: { url: string }): Promise<number> {
  const text = await fetch(`${auth.url}/metrics`).then((r) => r.text())
  const value = (name: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${name} `))
        ?.split(' ')[1] ?? 0,
    )
  return value('auth_password_queue_wait_seconds_count') + value('auth_password_queue_depth')
}

/**
 * Waits until auth-api has taken `count` more hashing jobs than `before`: started or waiting,
 * so a fast machine that has already finished some cannot make the wait miss them.
 */
async function waitUntilTaken(auth: { url: string }, before: number, count: number) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if ((await hashingJobs(auth)) - before >= count) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('requests never reached auth-api')
}

/**
 * An HTTP hop in front of auth-api that forwards everything but holds the answers on one path
 * (password hashing or verification) until released: signups or logins stay in flight inside
 * users-api, with no CPU spent, for as long as the test needs.
 */
async function holdingProxy(
  target: string,
  heldPath: string,
): Promise<{
  url: string
  held: () => number
  release: () => void
}> {
  const waiting: (() => void)[] = []
  let released = false
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers: Record<string, string> = {}
      for (const name of ['authorization', 'content-type', 'accept', 'x-request-id']) {
        const value = req.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined
      void fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers,
        ...(body ? { body } : {}),
      }).then(async (answer) => {
        const text = await answer.text()
        const reply = () => {
          res.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          })
          res.end(text)
        }
        if (req.url === heldPath && !released) waiting.push(reply)
        else reply()
      })
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  return {
    url: `http://127.0.0.1:${address.port}`,
    held: () => waiting.length,
    release() {
      released = true
      for (const reply of waiting.splice(0)) reply()
    },
  }
}

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : once(child, 'exit').then(([code]) => code as number | null)
}

describe('SIGTERM', () => {
  it('lets both services finish every accepted request, then exit 0', async () => {
    const auth = await startProcess('auth-api', {
      INTERNAL_API_TOKEN: credential,
      // Real argon2 cost, so requests are still in flight when the signal comes.
      ARGON2_MEMORY_KIB: '65536',
      ARGON2_ITERATIONS: '4',
      HASH_QUEUE_LIMIT: '100',
      HASH_QUEUE_TIMEOUT_MS: '10000',
    })
    const proxy = await holdingProxy(auth.url, '/v1/passwords/hash')
    const users = await startProcess('users-api', {
      INTERNAL_API_TOKEN: credential,
      AUTH_API_URL: proxy.url,
      MONGODB_URI: databaseUri(inject('mongoUri'), `shutdown_${randomUUID().slice(0, 8)}`),
      RATE_LIMIT_IP_MAX: '1000',
      // This test is about draining, not deadlines: a busy machine must not turn it into one.
      AUTH_API_DEADLINE_MS: '20000',
    })

    const signups = Array.from({ length: 12 }, (_, i) =>
      fetch(`${users.url}/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `drain${i}@example.com`, password: goodPassword }),
      }).then((r) => r.status),
    )
    // Once every request has reached the service (all are waiting on auth-api), stop it.
    await until(() => proxy.held() === 12, 'every signup reached auth-api', 60_000)
    users.child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 200))
    proxy.release()
    expect(await Promise.all(signups)).toEqual(Array.from({ length: 12 }, () => 201))
    expect(await exitCode(users.child)).toBe(0)
    await expect(fetch(`${users.url}/healthz`)).rejects.toThrow()

    const before = await hashingJobs(auth)
    let answered = 0
    const hashes = Array.from({ length: 8 }, () =>
      fetch(`${auth.url}/v1/passwords/hash`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
        body: JSON.stringify({ password: goodPassword }),
      }).then((r) => {
        answered += 1
        return r.status
      }),
    )
    await waitUntilTaken(auth, before, 8)
    auth.child.kill('SIGTERM')
    // Eight jobs on two workers at this cost take far longer than the wait above.
    expect(answered).toBeLessThan(8)
    expect(await Promise.all(hashes)).toEqual(Array.from({ length: 8 }, () => 200))
    expect(await exitCode(auth.child)).toBe(0)
    expect(users.output() + auth.output()).not.toMatch(/killed by timeout/)
  }, 120_000)

  it('finishes 18 logins in flight at SIGTERM before closing MongoDB, Redis and the auth-api pool', async () => {
    const auth = await startProcess('auth-api', { INTERNAL_API_TOKEN: credential, ...cheapArgon2 })
    const proxy = await holdingProxy(auth.url, '/v1/logins')
    const prefix = `test:shutdown:${randomUUID().slice(0, 8)}:`
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    try {
      const users = await startProcess('users-api', {
        INTERNAL_API_TOKEN: credential,
        AUTH_API_URL: proxy.url,
        MONGODB_URI: databaseUri(inject('mongoUri'), `shutdown_${randomUUID().slice(0, 8)}`),
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_PREFIX: prefix,
        RATE_LIMIT_IP_MAX: '1000',
        AUTH_API_DEADLINE_MS: '20000',
        LOG_LEVEL: 'info',
      })
      const emails = Array.from({ length: 18 }, (_, i) => `login${i}@example.com`)
      const signups = await Promise.all(
        emails.map((email) =>
          fetch(`${users.url}/v1/auth/signup`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, password: goodPassword }),
          }).then((r) => r.status),
        ),
      )
      expect(signups).toEqual(emails.map(() => 201))

      const logins = emails.map((email) =>
        fetch(`${users.url}/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: goodPassword }),
        }).then((r) => r.status),
      )
      // Every login has checked its throttle in Redis and is waiting on auth-api.
      await until(() => proxy.held() === emails.length, 'every login reached auth-api', 60_000)
      users.child.kill('SIGTERM')
      // It stops accepting at once, while the logins are still waiting…
      await until(() => users.output().includes('"msg":"closing"'), 'users-api started closing')
      const refused = await fetch(`${users.url}/healthz`).then(
        () => false,
        () => true,
      )
      expect(refused).toBe(true)
      // …and once auth-api answers, each login still writes its session (MongoDB), clears its
      // counters (Redis) and mints a token (auth-api) before anything is closed.
      proxy.release()
      expect(await Promise.all(logins)).toEqual(emails.map(() => 200))
      expect(await exitCode(users.child)).toBe(0)
      expect(users.output()).not.toMatch(/killed by timeout|dependency failure|request failed/)
    } finally {
      const keys = await redis.keys(`${prefix}*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    }
  }, 120_000)

  it('refuses to start in production without its secrets, with one clear line', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@users-auth/source', 'src/server.ts'],
      {
        cwd: `${servicesDir}users-api`,
        env: { ...process.env, NODE_ENV: 'production', MONGODB_URI: '', INTERNAL_API_TOKEN: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    expect(await exitCode(child)).toBe(1)
    expect(stderr.trim()).toBe('users-api: MONGODB_URI is required in production')
  })
})
