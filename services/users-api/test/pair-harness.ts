import { randomUUID } from 'node:crypto'
import { databaseUri } from '@users-auth/dev-mongo'
import { captureLogs, createLogger } from '@users-auth/service-kit'
import { createAuthApi } from 'auth-api/create'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import mongoose, { type Connection } from 'mongoose'
import { afterEach, inject } from 'vitest'
import { createUsersApi } from '../src/create-users-api.js'
import { TestMailServer } from './mail-server.js'
// Declares what the workspace's global setup provides (`inject('mongoUri')`).
import type {} from '../../../packages/dev-mongo/test/global-setup.js'

export const credential = 'pair-test-credential-0123456789abcdef0123'
export const goodPassword = 'correct horse battery staple'

/** argon2 at its cheapest: tests exercise the flows, benchmarks measure the cost. */
export const cheapArgon2 = { ARGON2_MEMORY_KIB: '1024', ARGON2_ITERATIONS: '1' }

export interface Pair {
  users: FastifyInstance
  /** users-api's database, for starting another replica on it. */
  mongoUri: string
  auth: FastifyInstance
  authUrl: string
  /** A direct connection to the test database, for setup and for checking what was stored. */
  db: Connection
  logs: () => string
  /** The real SMTP server users-api delivers to (unless the test gave its own SMTP_URL). */
  mail: TestMailServer
  close: () => Promise<void>
}

export interface PairOptions {
  usersEnv?: Record<string, string>
  authEnv?: Record<string, string>
  /** Clock for users-api (sessions) — auth-api keeps the real one unless `authNow` is given. */
  now?: () => Date
  authNow?: () => number
  /** Point users-api somewhere other than the real auth-api (a broken stand-in). */
  authUrl?: string
  /** A MongoDB of the test's own (e.g. one it stops and restarts). */
  mongoUri?: string
  /** Wait for /readyz (default: unless auth-api is replaced by a stand-in). */
  waitReady?: boolean
  /** An SMTP server of the test's own (e.g. one it stops and restarts). */
  mail?: TestMailServer
  /** No SMTP_URL: users-api's embedded mail sink takes the mail and prints each one here. */
  printMail?: (line: string) => void
}

/** Mail settings for tests: a sender that looks often and retries soon. */
export const fastMailEnv = {
  MAIL_POLL_INTERVAL: '100ms',
  MAIL_SEND_TIMEOUT: '1s',
  MAIL_RETRY_BASE: '100ms',
  MAIL_RETRY_MAX_DELAY: '1s',
}

// Every pair a test starts is closed after that test, whatever happened in it.
const openPairs = new Set<Pair>()
afterEach(async () => {
  const pairs = [...openPairs]
  openPairs.clear()
  for (const pair of pairs) await pair.close()
})

/**
 * auth-api listening on an ephemeral port and users-api calling it over real HTTP, with
 * MongoDB from the workspace's resolution and a fresh database for this pair. Closed
 * after the test that started it.
 */
export async function startPair(options: PairOptions = {}): Promise<Pair> {
  const logs = captureLogs()
  const logger = createLogger({ level: 'info', stream: logs.stream })
  const auth = await createAuthApi(
    { NODE_ENV: 'test', INTERNAL_API_TOKEN: credential, ...cheapArgon2, ...options.authEnv },
    { logger, ...(options.authNow ? { now: options.authNow } : {}) },
  )
  const authUrl = await auth.app.listen({ port: 0, host: '127.0.0.1' })
  const uri = databaseUri(
    options.mongoUri ?? inject('mongoUri'),
    `users_${randomUUID().slice(0, 8)}`,
  )
  const mail = options.mail ?? new TestMailServer()
  if (!options.mail) await mail.start()
  const users = await createUsersApi(
    {
      NODE_ENV: 'test',
      INTERNAL_API_TOKEN: credential,
      MONGODB_URI: uri,
      AUTH_API_URL: options.authUrl ?? authUrl,
      // Tests send many requests from one address; throttling has tests of its own.
      RATE_LIMIT_IP_MAX: '1000',
      ...(options.printMail ? {} : { SMTP_URL: mail.url }),
      ...fastMailEnv,
      ...options.usersEnv,
    },
    {
      logger,
      ...(options.now ? { now: options.now } : {}),
      ...(options.printMail ? { printMail: options.printMail } : {}),
    },
  )
  await users.app.ready()
  const db = await mongoose.createConnection(uri).asPromise()
  if (options.waitReady ?? !options.authUrl) await waitUntilReady(users.app)
  let closed = false
  const pair: Pair = {
    users: users.app,
    mongoUri: uri,
    auth: auth.app,
    authUrl,
    db,
    logs: logs.text,
    mail,
    async close() {
      if (closed) return
      closed = true
      openPairs.delete(pair)
      await users.app.close()
      await auth.app.close()
      if (!options.mail) await mail.stop()
      await db.dropDatabase()
      await db.close()
    },
  }
  openPairs.add(pair)
  return pair
}

/** Another users-api replica on the pair's database and auth-api (e.g. to share Redis state). */
export async function startReplica(
  pair: Pair,
  usersEnv: Record<string, string>,
): Promise<FastifyInstance> {
  const { app } = await createUsersApi(
    {
      NODE_ENV: 'test',
      INTERNAL_API_TOKEN: credential,
      MONGODB_URI: pair.mongoUri,
      AUTH_API_URL: pair.authUrl,
      SMTP_URL: pair.mail.url,
      ...fastMailEnv,
      ...usersEnv,
    },
    { logger: createLogger({ level: 'silent' }) },
  )
  await waitUntilReady(app)
  return app
}

export async function waitUntilReady(app: FastifyInstance, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await app.inject({ method: 'GET', url: '/readyz' })
    if (res.statusCode === 200) return
    if (Date.now() > deadline) throw new Error(`users-api not ready: ${res.body}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export interface SessionBody {
  user: {
    id: string
    email: string
    name: string
    roles: string[]
    createdAt: string
    updatedAt: string
  }
  accessToken: string
  refreshToken: string
  tokenType: string
  expiresIn: number
}

export function post(app: FastifyInstance, url: string, payload: unknown, token?: string) {
  return app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
}

export function get(app: FastifyInstance, url: string, token?: string) {
  return app.inject({
    method: 'GET',
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
}

export function send(
  app: FastifyInstance,
  method: 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
  token?: string,
) {
  return app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
}

export async function signup(
  app: FastifyInstance,
  email: string,
  password = goodPassword,
): Promise<SessionBody> {
  const res = await post(app, '/v1/auth/signup', { email, password })
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`)
  return res.json<SessionBody>()
}

export async function login(
  app: FastifyInstance,
  email: string,
  password = goodPassword,
): Promise<SessionBody> {
  const res = await post(app, '/v1/auth/login', { email, password })
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`)
  return res.json<SessionBody>()
}

/**
 * A signed-up account made admin in the database (the first admin has nobody to promote it),
 * signed in again so its token carries the role; returns the access token.
 */
export async function makeAdmin(p: Pair, email: string): Promise<string> {
  await signup(p.users, email)
  await p.db.collection('users').updateOne({ email }, { $addToSet: { roles: 'admin' } })
  return (await login(p.users, email)).accessToken
}

/** Asserts an RFC 9457 answer with the contract's code and returns its body. */
export function problem(
  res: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  if (res.statusCode !== status)
    throw new Error(`expected ${status} ${code}, got ${res.statusCode}: ${res.body}`)
  if (res.headers['content-type'] !== 'application/problem+json; charset=utf-8') {
    throw new Error(`not problem+json: ${String(res.headers['content-type'])}`)
  }
  const body = res.json<Record<string, unknown>>()
  if (body.code !== code || body.status !== status)
    throw new Error(`expected code ${code}: ${res.body}`)
  return body
}
