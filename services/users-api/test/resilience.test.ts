import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { start as startMongoLite } from '@users-auth/mongo-lite'
import { afterEach, describe, expect, it } from 'vitest'
import { FaultProxy, type FaultMode } from './fault-proxy.js'
import {
  get,
  goodPassword,
  post,
  problem,
  signup,
  startPair,
  waitUntilReady,
  type Pair,
} from './pair-harness.js'

let pair: Pair | undefined
let proxy: FaultProxy | undefined
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await pair?.close()
  await proxy?.stop()
  for (const cleanup of cleanups.splice(0)) await cleanup()
  pair = undefined
  proxy = undefined
})

/** users-api → fault proxy → auth-api, with the breaker's half-open delay short for tests. */
async function pairBehindProxy(
  usersEnv: Record<string, string> = {},
): Promise<{ p: Pair; fault: FaultProxy }> {
  proxy = new FaultProxy({ host: '127.0.0.1', port: 1 })
  const url = await proxy.start()
  pair = await startPair({
    authUrl: url,
    usersEnv: { AUTH_API_BREAKER_HALF_OPEN_MS: '1000', ...usersEnv },
  })
  proxy.retarget(pair.authUrl)
  await waitUntilReady(pair.users)
  return { p: pair, fault: proxy }
}

async function timedSignup(p: Pair, email: string) {
  const started = performance.now()
  const res = await post(p.users, '/v1/auth/signup', { email, password: goodPassword })
  return { res, ms: performance.now() - started }
}

describe('auth-api failing', () => {
  it.each<[FaultMode, string]>([
    ['refuse', 'refusing connections'],
    ['stall', 'accepting and never answering'],
    ['garbage', 'answering garbage'],
    ['huge', 'answering 10 MB'],
  ])(
    'answers 503 with Retry-After within 3 s when auth-api is %s (%s), storing nothing',
    async (mode) => {
      const { p, fault } = await pairBehindProxy()
      fault.mode = mode
      fault.cut()
      const { res, ms } = await timedSignup(p, `fault-${mode}@example.com`)
      problem(res, 503, 'SERVICE_UNAVAILABLE')
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect(ms).toBeLessThan(3000)
      expect(res.body).not.toMatch(/ECONN|undici|socket|json/i)
      expect(await p.db.collection('users').countDocuments()).toBe(0)
      // An outage is for operators to see.
      expect(p.logs()).toContain('"msg":"dependency failure"')
    },
  )

  it('fails fast while auth-api keeps failing, and recovers within 10 s once it is back', async () => {
    const { p, fault } = await pairBehindProxy()
    fault.mode = 'stall'
    fault.cut()
    // Enough failures to open the breaker; each one is bounded by the 2 s deadline.
    const failures = await Promise.all(
      Array.from({ length: 5 }, (_, i) => timedSignup(p, `stall${i}@example.com`)),
    )
    for (const f of failures) expect(f.res.statusCode).toBe(503)
    const open = await timedSignup(p, 'fast-fail@example.com')
    problem(open.res, 503, 'SERVICE_UNAVAILABLE')
    expect(open.ms).toBeLessThan(500)

    fault.mode = 'forward'
    fault.cut()
    const back = performance.now()
    let status = 0
    while (performance.now() - back < 10_000) {
      status = (
        await post(p.users, '/v1/auth/signup', {
          email: 'back@example.com',
          password: goodPassword,
        })
      ).statusCode
      if (status === 201) break
      await sleep(200)
    }
    expect(status).toBe(201)
  })

  it('passes on auth-api’s own 503 and Retry-After when its hashing queue is full', async () => {
    pair = await startPair({
      authEnv: {
        ARGON2_MEMORY_KIB: '16384',
        ARGON2_ITERATIONS: '3',
        HASH_CONCURRENCY: '1',
        HASH_QUEUE_LIMIT: '1',
      },
    })
    const p = pair
    const started = performance.now()
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(p.users, '/v1/auth/signup', {
          email: `burst${i}@example.com`,
          password: goodPassword,
        }),
      ),
    )
    // Nothing hangs: the whole burst, admitted and shed alike, is answered within a bound.
    expect(performance.now() - started).toBeLessThan(5000)
    const codes = results.map((r) => r.statusCode)
    expect(codes.every((c) => c === 201 || c === 503)).toBe(true)
    expect(codes.filter((c) => c === 201).length).toBeGreaterThanOrEqual(2)
    const shed = results.filter((r) => r.statusCode === 503)
    expect(shed.length).toBeGreaterThanOrEqual(1)
    for (const r of shed) expect(r.headers['retry-after']).toBe('1')
    // Shedding is deliberate: one line (no stack) for the whole burst, not one per refusal,
    // which would flood the logs, and cost CPU, exactly when load is highest.
    expect(p.logs()).not.toContain('dependency failure')
    const lines = p
      .logs()
      .split('\n')
      .filter((line) => line.includes('shedding load'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 40, shed: 1 })
    // Busy is not broken: the breaker stays closed and, once the moment users-api holds back
    // new password work after auth-api's refusal (100 ms) has passed, the next one is served.
    await sleep(150)
    expect(
      (
        await post(p.users, '/v1/auth/signup', {
          email: 'after-burst@example.com',
          password: goodPassword,
        })
      ).statusCode,
    ).toBe(201)
    expect((await get(p.users, '/healthz')).statusCode).toBe(200)
  })
})

describe('MongoDB failing', () => {
  it('answers 503 within 5 s while MongoDB is down, and recovers by itself within 15 s', async () => {
    let mongo = await startMongoLite({ port: 0 })
    const port = mongo.port
    cleanups.push(() => mongo.stop())
    pair = await startPair({ mongoUri: mongo.uri })
    const s = await signup(pair.users, 'before@example.com')

    await mongo.stop()
    const started = performance.now()
    const me = await get(pair.users, '/v1/users/me', s.accessToken)
    problem(me, 503, 'SERVICE_UNAVAILABLE')
    expect(me.headers['retry-after']).toBeDefined()
    expect(performance.now() - started).toBeLessThan(5000)
    expect((await get(pair.users, '/readyz')).statusCode).toBe(503)
    expect((await get(pair.users, '/healthz')).statusCode).toBe(200)
    const signupDown = await post(pair.users, '/v1/auth/signup', {
      email: 'during@example.com',
      password: goodPassword,
    })
    problem(signupDown, 503, 'SERVICE_UNAVAILABLE')

    mongo = await startMongoLite({ port })
    const back = performance.now()
    let status = 0
    while (performance.now() - back < 15_000) {
      status = (
        await post(pair.users, '/v1/auth/signup', {
          email: 'after@example.com',
          password: goodPassword,
        })
      ).statusCode
      if (status === 201) break
      await sleep(250)
    }
    expect(status).toBe(201)
    expect((await get(pair.users, '/readyz')).statusCode).toBe(200)
  })
})
