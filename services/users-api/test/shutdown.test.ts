import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { databaseUri } from '@users-auth/dev-mongo'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { credential, goodPassword } from './pair-harness.js'

const servicesDir = fileURLToPath(new URL('../..', import.meta.url))
const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
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
  const deadline = Date.now() + 20_000
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

/** Waits until auth-api has taken `count` hash requests (its metrics say so). */
async function waitUntilQueued(auth: { url: string }, count: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    const text = await fetch(`${auth.url}/metrics`).then((r) => r.text())
    const line = text.split('\n').find((l) => l.startsWith('auth_password_queue_depth '))
    const depth = Number(line?.split(' ')[1] ?? 0)
    if (depth + 2 >= count) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('requests never reached auth-api')
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
      ARGON2_MEMORY_KIB: '32768',
      ARGON2_ITERATIONS: '3',
      HASH_QUEUE_LIMIT: '100',
      HASH_QUEUE_TIMEOUT_MS: '10000',
    })
    const users = await startProcess('users-api', {
      INTERNAL_API_TOKEN: credential,
      AUTH_API_URL: auth.url,
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
    // Once every request has reached the service (all are waiting on argon2), stop it.
    await waitUntilQueued(auth, 12)
    users.child.kill('SIGTERM')
    expect(await Promise.all(signups)).toEqual(Array.from({ length: 12 }, () => 201))
    expect(await exitCode(users.child)).toBe(0)
    await expect(fetch(`${users.url}/healthz`)).rejects.toThrow()

    const hashes = Array.from({ length: 8 }, () =>
      fetch(`${auth.url}/v1/passwords/hash`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
        body: JSON.stringify({ password: goodPassword }),
      }).then((r) => r.status),
    )
    await waitUntilQueued(auth, 8)
    auth.child.kill('SIGTERM')
    expect(await Promise.all(hashes)).toEqual(Array.from({ length: 8 }, () => 200))
    expect(await exitCode(auth.child)).toBe(0)
    expect(users.output() + auth.output()).not.toMatch(/killed by timeout/)
  })

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
