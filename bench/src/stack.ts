import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { databaseUri } from '@users-auth/dev-mongo'
import { startDevMailSink } from 'users-api/dev-mail-sink'
import { argon2idParams, type Argon2Params } from './phc.js'
import { baseEnv, repoRoot, startNode, type Child } from './processes.js'

/** Service settings the bench's environment may set (ARGON2_*, HASH_*, AUTH_API_*, …). */
const passedThrough = /^(ARGON2_|HASH_|AUTH_API_(?!URL)|ACCESS_TOKEN_TTL$|MONGODB_TIMEOUT_MS$)/

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

/** Whether a Redis answers PING on 127.0.0.1:6379 within half a second. */
async function redisAnswers(): Promise<boolean> {
  const socket = connect(6379, '127.0.0.1')
  socket.setTimeout(500, () => socket.destroy(new Error('no answer')))
  try {
    await once(socket, 'connect')
    socket.write('PING\r\n')
    const [data] = (await once(socket, 'data')) as [Buffer]
    return data.toString().startsWith('+PONG')
  } catch {
    return false
  } finally {
    socket.destroy()
  }
}

async function waitReady(child: Child, url: string): Promise<void> {
  const deadline = Date.now() + 60_000
  let last = ''
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`${child.name} exited during start-up${child.tail()}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.ok) return
      last = `status ${response.status}`
    } catch (error) {
      last = String(error)
    }
    await sleep(200)
  }
  throw new Error(`${child.name} not ready at ${url} (${last})${child.tail()}`)
}

export interface Stack {
  usersUrl: string
  authUrl: string
  credential: string
  mongoBackend: string
  redis: boolean
  /** The argon2id costs auth-api hashes with, read from a hash it made. */
  argon2: Argon2Params
  /** The service settings in force, secrets left out. */
  settings: Record<string, string>
  stop(): Promise<void>
}

/**
 * MongoDB (as the workspace resolves it), auth-api and users-api, each in its own process and
 * configured as in production: NODE_ENV=production, a generated service credential and Ed25519
 * signing key, LOG_LEVEL=warn, loopback only. The per-IP limit is raised far above what one
 * load generator sends, so that the bench measures the services rather than the limiter.
 */
export async function startStack(options: {
  hashing: { threads: number; concurrency: number }
  runId: string
  nodeFlags: (name: string) => string[]
}): Promise<Stack> {
  const children: Child[] = []
  // Front to back, so that no service sees its dependency vanish under live traffic.
  const closers: (() => Promise<void>)[] = []
  const stop = async (): Promise<void> => {
    for (const child of children.reverse()) await child.stop()
    for (const close of closers) await close()
  }
  const start = (name: string, entry: string, env: NodeJS.ProcessEnv, ipc = false): Child => {
    const child = startNode(name, join(repoRoot, entry), {
      env,
      nodeFlags: options.nodeFlags(name),
      ipc,
    })
    children.push(child)
    return child
  }
  try {
    const mongo = start('mongo', 'bench/src/mongo-child.ts', process.env, true)
    const db = await mongo.ask<{ backend: string; uri: string }>(undefined, 60_000)
    const credential = randomBytes(32).toString('base64url')
    const [authPort, usersPort] = [await freePort(), await freePort()]
    const redis = process.env.BENCH_REDIS !== 'off' && (await redisAnswers())
    // Signup mails a verification link: a real SMTP server in this process takes it (its CPU
    // counts as the load generator's).
    const mail = await startDevMailSink(() => undefined)
    closers.push(() => mail.close())
    const settings: Record<string, string> = {
      ...{ NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1' },
      HASH_THREADS: String(options.hashing.threads),
      HASH_CONCURRENCY: String(options.hashing.concurrency),
      RATE_LIMIT_IP_MAX: '10000000',
      ...Object.fromEntries(
        Object.entries(process.env).filter(([key, v]) => passedThrough.test(key) && v),
      ),
    }
    const common = { ...baseEnv(), ...settings, INTERNAL_API_TOKEN: credential }
    const key = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })
    const jwk = { ...key, kid: `bench-${options.runId}`, alg: 'EdDSA', use: 'sig' }
    const authUrl = `http://127.0.0.1:${authPort}`
    const auth = start('auth-api', 'services/auth-api/src/server.ts', {
      ...common,
      PORT: String(authPort),
      JWT_PRIVATE_KEYS: JSON.stringify({ keys: [jwk] }),
      TOTP_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    })
    const redisEnv: Record<string, string> = redis ? { REDIS_URL: 'redis://127.0.0.1:6379' } : {}
    const usersUrl = `http://127.0.0.1:${usersPort}`
    const users = start('users-api', 'services/users-api/src/server.ts', {
      ...common,
      PORT: String(usersPort),
      AUTH_API_URL: authUrl,
      MONGODB_URI: databaseUri(db.uri, `bench_${options.runId}`),
      SMTP_URL: mail.url,
      APP_URL: 'http://127.0.0.1:8080',
      // Keys of this run only: nothing left by an earlier run or by tests counts against it.
      ...(redis ? { ...redisEnv, REDIS_PREFIX: `bench-${options.runId}:` } : {}),
    })
    await waitReady(auth, `${authUrl}/readyz`)
    await waitReady(users, `${usersUrl}/readyz`)
    const response = await fetch(`${authUrl}/v1/passwords/hash`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: randomBytes(16).toString('base64url') }),
    })
    const { hash } = (await response.json()) as { hash?: unknown }
    const argon2 = typeof hash === 'string' ? argon2idParams(hash) : null
    if (!argon2) throw new Error(`auth-api answered ${response.status} without an argon2id hash`)
    return {
      ...{ usersUrl, authUrl, credential, mongoBackend: db.backend, redis, argon2, stop },
      settings: {
        ...settings,
        ARGON2_MEMORY_KIB: String(argon2.memoryCost),
        ARGON2_ITERATIONS: String(argon2.timeCost),
        ARGON2_PARALLELISM: String(argon2.parallelism),
        ...redisEnv,
      },
    }
  } catch (error) {
    await stop()
    throw error
  }
}
