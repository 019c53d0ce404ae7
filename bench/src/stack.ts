import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer, Socket } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { databaseUri } from '@users-auth/dev-mongo'
import { baseEnv, Child, forkScript, repoRoot, startScript } from './children.js'
import type { Argon2Settings } from './ceiling-protocol.js'
import { phcParameters } from './phc.js'

/** Service settings the bench's own environment may override, passed on unchanged. */
export const passedThrough = [
  'ARGON2_MEMORY_KIB',
  'ARGON2_ITERATIONS',
  'ARGON2_PARALLELISM',
  'HASH_THREADS',
  'HASH_CONCURRENCY',
  'HASH_QUEUE_LIMIT',
  'HASH_QUEUE_TIMEOUT_MS',
  'ACCESS_TOKEN_TTL',
  'AUTH_API_DEADLINE_MS',
  'AUTH_API_CONNECT_TIMEOUT_MS',
  'AUTH_API_BREAKER_HALF_OPEN_MS',
  'MONGODB_TIMEOUT_MS',
] as const

export interface HashingSettings {
  argon2: Argon2Settings
  /** libuv pool size of auth-api (HASH_THREADS) and of the ceiling process. */
  threads: number
  /** Hash jobs auth-api runs at once (HASH_CONCURRENCY, default: threads). */
  concurrency: number
}

function integerSetting(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

/** auth-api's defaults (services/auth-api/src/config.ts), unless the environment says otherwise. */
export function hashingSettings(cores: number): HashingSettings {
  const threads = integerSetting('HASH_THREADS', Math.max(1, cores))
  return {
    argon2: {
      memoryCost: integerSetting('ARGON2_MEMORY_KIB', 19456),
      timeCost: integerSetting('ARGON2_ITERATIONS', 2),
      parallelism: integerSetting('ARGON2_PARALLELISM', 1),
    },
    threads,
    concurrency: integerSetting('HASH_CONCURRENCY', threads),
  }
}

export interface StackOptions {
  hashing: HashingSettings
  runId: string
  /** Node flags for each process of the stack (e.g. --cpu-prof). */
  nodeFlags?: (process: 'mongo' | 'auth-api' | 'users-api') => string[]
  startTimeoutMs: number
}

export interface Stack {
  usersUrl: string
  authUrl: string
  credential: string
  mongoBackend: string
  redis: boolean
  /** The service settings in force, secrets left out. */
  settings: Record<string, string>
  children: Child[]
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve()
    }),
  )
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

/** Whether a Redis answers PING on the loopback address within `timeoutMs`. */
export async function redisAnswers(port = 6379, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const finish = (answer: boolean): void => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(timeoutMs, () => {
      finish(false)
    })
    socket.once('error', () => {
      finish(false)
    })
    socket.once('data', (data) => {
      finish(data.toString().startsWith('+PONG'))
    })
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
  })
}

/** A fresh Ed25519 private JWK set for JWT_PRIVATE_KEYS, as `pnpm keygen` would print. */
function privateJwks(): string {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return JSON.stringify({
    keys: [{ ...jwk, kid: `bench-${randomUUID().slice(0, 8)}`, alg: 'EdDSA', use: 'sig' }],
  })
}

async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    if (!child.running) throw new Error(`${child.name} exited during start-up${child.tail()}`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.ok) return
      last = `status ${response.status}`
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    await sleep(200)
  }
  throw new Error(
    `${child.name} not ready at ${url} after ${timeoutMs} ms (${last})${child.tail()}`,
  )
}

/**
 * MongoDB (as the workspace resolves it), auth-api and users-api, each in its own process,
 * configured as in production: NODE_ENV=production, a real service credential and signing
 * key, LOG_LEVEL=warn, loopback only. Throttling is raised far above what one load generator
 * on one IP sends, so that it measures the services rather than the limiter.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const children: Child[] = []
  const stop = async (): Promise<void> => {
    // Front to back, so no service sees its dependency vanish under live traffic.
    for (const child of [...children].reverse()) await child.stop()
  }
  try {
    const mongo = forkScript('mongo', join(repoRoot, 'bench/src/mongo-child.ts'), {
      env: process.env,
      nodeFlags: options.nodeFlags?.('mongo') ?? [],
    })
    children.push(mongo)
    const [, backend = '?', mongoUri = ''] = await mongo.waitForLine(
      /^MONGO (\S+) (\S+)$/,
      options.startTimeoutMs,
    )

    const credential = randomBytes(32).toString('base64url')
    const [authPort, usersPort] = [await freePort(), await freePort()]
    const redis = process.env.BENCH_REDIS !== 'off' && (await redisAnswers())
    const { hashing } = options
    const settings: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ARGON2_MEMORY_KIB: String(hashing.argon2.memoryCost),
      ARGON2_ITERATIONS: String(hashing.argon2.timeCost),
      ARGON2_PARALLELISM: String(hashing.argon2.parallelism),
      HASH_THREADS: String(hashing.threads),
      HASH_CONCURRENCY: String(hashing.concurrency),
      RATE_LIMIT_IP_MAX: '10000000',
    }
    for (const name of passedThrough) {
      const value = process.env[name]
      if (value !== undefined && value !== '') settings[name] = value
    }
    const secrets = { INTERNAL_API_TOKEN: credential }

    const auth = startScript('auth-api', join(repoRoot, 'services/auth-api/src/server.ts'), {
      env: {
        ...baseEnv(),
        ...settings,
        ...secrets,
        PORT: String(authPort),
        JWT_PRIVATE_KEYS: privateJwks(),
        TOTP_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      },
      nodeFlags: options.nodeFlags?.('auth-api') ?? [],
    })
    children.push(auth)
    const authUrl = `http://127.0.0.1:${authPort}`

    const users = startScript('users-api', join(repoRoot, 'services/users-api/src/server.ts'), {
      env: {
        ...baseEnv(),
        ...settings,
        ...secrets,
        PORT: String(usersPort),
        MONGODB_URI: databaseUri(mongoUri, `bench_${options.runId}`),
        AUTH_API_URL: authUrl,
        // Keys of this run only: nothing left by an earlier run or by tests counts against it.
        ...(redis
          ? { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `bench-${options.runId}:` }
          : {}),
      },
      nodeFlags: options.nodeFlags?.('users-api') ?? [],
    })
    children.push(users)
    const usersUrl = `http://127.0.0.1:${usersPort}`

    await waitReady(auth, `${authUrl}/readyz`, options.startTimeoutMs)
    await waitReady(users, `${usersUrl}/readyz`, options.startTimeoutMs)
    return {
      usersUrl,
      authUrl,
      credential,
      mongoBackend: backend,
      redis,
      settings: { ...settings, ...(redis ? { REDIS_URL: 'redis://127.0.0.1:6379' } : {}) },
      children,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The argon2 parameters auth-api actually hashes with, read from a hash it makes. */
export async function serviceHashParams(stack: Stack): Promise<string> {
  const response = await fetch(`${stack.authUrl}/v1/passwords/hash`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ password: randomBytes(16).toString('base64url') }),
    signal: AbortSignal.timeout(10_000),
  })
  const body = (await response.json()) as { hash?: unknown }
  if (!response.ok || typeof body.hash !== 'string') {
    throw new Error(`auth-api hash answered ${response.status}`)
  }
  const params = phcParameters(body.hash)
  if (!params) throw new Error('auth-api answered a hash that is not an argon2 PHC string')
  return params
}
