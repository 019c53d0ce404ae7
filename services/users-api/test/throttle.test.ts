import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import {
  goodPassword,
  problem,
  signup,
  startPair,
  startReplica,
  type Pair,
} from './pair-harness.js'
import { testRedis } from './redis-harness.js'

// These tests are about the shared store.
const redis = testRedis('')
let pair: Pair | undefined
const replicas: FastifyInstance[] = []

afterEach(async () => {
  for (const app of replicas.splice(0)) await app.close()
  await pair?.close()
  pair = undefined
})

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix(), ...extra }
}

function loginFrom(
  app: FastifyInstance,
  ip: string,
  email: string,
  password: string,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    remoteAddress: ip,
    headers,
    payload: { email, password },
  })
}

describe('per-IP limit in Redis', () => {
  it('is shared by two users-api replicas on one Redis', async () => {
    const shared = env({
      RATE_LIMIT_IP_MAX: '4',
      LOCKOUT_THRESHOLD: '20',
      LOCKOUT_HARD_LIMIT: '40',
    })
    pair = await startPair({ usersEnv: shared })
    const other = await startReplica(pair, shared)
    replicas.push(other)
    const codes: number[] = []
    for (const app of [pair.users, other, pair.users, other]) {
      codes.push(
        (await loginFrom(app, '203.0.113.7', 'x@example.com', 'wrong password here')).statusCode,
      )
    }
    expect(codes).toEqual([401, 401, 401, 401])
    const limited = await loginFrom(other, '203.0.113.7', 'x@example.com', 'wrong password here')
    problem(limited, 429, 'RATE_LIMITED')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // Another client is not affected.
    expect(
      (await loginFrom(pair.users, '203.0.113.8', 'x@example.com', 'wrong password here'))
        .statusCode,
    ).toBe(401)
    expect((await redis.client.keys(`${redis.prefix}*`)).length).toBeGreaterThan(0)
  })

  it('counts signup, login and refresh together', async () => {
    pair = await startPair({ usersEnv: env({ RATE_LIMIT_IP_MAX: '3' }) })
    const app = pair.users
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/auth/signup',
          payload: { email: 'y@example.com', password: goodPassword },
        })
      ).statusCode,
    ).toBe(201)
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          payload: { email: 'y@example.com', password: goodPassword },
        })
      ).statusCode,
    ).toBe(200)
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/v1/auth/refresh',
          payload: { refreshToken: 'nope' },
        })
      ).statusCode,
    ).toBe(401)
    problem(
      await app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: 'nope' },
      }),
      429,
      'RATE_LIMITED',
    )
  })
})

describe('client IP', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    pair = await startPair({ usersEnv: env({ RATE_LIMIT_IP_MAX: '2' }) })
    const app = pair.users
    for (const spoof of ['198.51.100.1', '198.51.100.2']) {
      expect(
        (
          await loginFrom(app, '203.0.113.9', 'z@example.com', 'wrong password here', {
            'x-forwarded-for': spoof,
          })
        ).statusCode,
      ).toBe(401)
    }
    problem(
      await loginFrom(app, '203.0.113.9', 'z@example.com', 'wrong password here', {
        'x-forwarded-for': '198.51.100.3',
      }),
      429,
      'RATE_LIMITED',
    )
  })

  it('honours X-Forwarded-For from a trusted proxy, walking only trusted hops', async () => {
    pair = await startPair({
      usersEnv: env({
        RATE_LIMIT_IP_MAX: '2',
        TRUSTED_PROXIES: '10.0.0.0/8',
        LOCKOUT_THRESHOLD: '20',
        LOCKOUT_HARD_LIMIT: '40',
      }),
    })
    const app = pair.users
    const viaProxy = (client: string) =>
      loginFrom(app, '10.1.2.3', 'w@example.com', 'wrong password here', {
        'x-forwarded-for': client,
      })
    expect((await viaProxy('198.51.100.10')).statusCode).toBe(401)
    expect((await viaProxy('198.51.100.10')).statusCode).toBe(401)
    problem(await viaProxy('198.51.100.10'), 429, 'RATE_LIMITED')
    // A different client behind the same proxy has its own budget.
    expect((await viaProxy('198.51.100.11')).statusCode).toBe(401)
    // A client cannot prepend a fake hop: the address the trusted proxy saw is what counts.
    expect((await viaProxy('1.2.3.4, 198.51.100.10')).statusCode).toBe(429)
  })
})

describe('per-account lockout', () => {
  it('delays attempts after 5 consecutive failures, with a growing Retry-After', async () => {
    pair = await startPair({ usersEnv: env() })
    await signup(pair.users, 'locked@example.com')
    for (let i = 0; i < 5; i++) {
      problem(
        await loginFrom(pair.users, '203.0.113.20', 'locked@example.com', 'wrong password here'),
        401,
        'INVALID_CREDENTIALS',
      )
    }
    const first = problem(
      await loginFrom(pair.users, '203.0.113.21', 'locked@example.com', goodPassword),
      429,
      'RATE_LIMITED',
    )
    expect(first.detail).toBeDefined()
    const firstRes = await loginFrom(pair.users, '203.0.113.21', 'locked@example.com', goodPassword)
    expect(Number(firstRes.headers['retry-after'])).toBe(1)
    await sleep(1100)
    problem(
      await loginFrom(pair.users, '203.0.113.20', 'locked@example.com', 'wrong password here'),
      401,
      'INVALID_CREDENTIALS',
    )
    const second = await loginFrom(
      pair.users,
      '203.0.113.20',
      'locked@example.com',
      'wrong password here',
    )
    problem(second, 429, 'RATE_LIMITED')
    expect(Number(second.headers['retry-after'])).toBe(2)
  })

  it('is reset by a successful login', async () => {
    pair = await startPair({ usersEnv: env() })
    await signup(pair.users, 'reset@example.com')
    for (let i = 0; i < 4; i++)
      await loginFrom(pair.users, '203.0.113.30', 'reset@example.com', 'wrong password here')
    expect(
      (await loginFrom(pair.users, '203.0.113.30', 'reset@example.com', goodPassword)).statusCode,
    ).toBe(200)
    for (let i = 0; i < 4; i++) {
      expect(
        (await loginFrom(pair.users, '203.0.113.30', 'reset@example.com', 'wrong password here'))
          .statusCode,
      ).toBe(401)
    }
    expect(
      (await loginFrom(pair.users, '203.0.113.30', 'reset@example.com', goodPassword)).statusCode,
    ).toBe(200)
  })

  it('looks the same for an account that does not exist', async () => {
    pair = await startPair({ usersEnv: env() })
    await signup(pair.users, 'real@example.com')
    const lockOut = async (email: string) => {
      for (let i = 0; i < 5; i++)
        await loginFrom(pair!.users, '203.0.113.40', email, 'wrong password here')
      return loginFrom(pair!.users, '203.0.113.40', email, 'wrong password here')
    }
    const real = await lockOut('real@example.com')
    const ghost = await lockOut('ghost@example.com')
    const a = problem(real, 429, 'RATE_LIMITED')
    const b = problem(ghost, 429, 'RATE_LIMITED')
    delete a.traceId
    delete b.traceId
    expect(a).toEqual(b)
    expect(real.headers['retry-after']).toBe(ghost.headers['retry-after'])
  })

  it('cannot lock the owner out from where they recently logged in', async () => {
    pair = await startPair({ usersEnv: env() })
    await signup(pair.users, 'owner@example.com')
    expect(
      (await loginFrom(pair.users, '192.0.2.10', 'owner@example.com', goodPassword)).statusCode,
    ).toBe(200)
    // An attacker elsewhere burns through the failures.
    for (let i = 0; i < 8; i++)
      await loginFrom(pair.users, '198.51.100.66', 'owner@example.com', 'attacker guess here')
    problem(
      await loginFrom(pair.users, '198.51.100.66', 'owner@example.com', goodPassword),
      429,
      'RATE_LIMITED',
    )
    problem(
      await loginFrom(pair.users, '198.51.100.67', 'owner@example.com', goodPassword),
      429,
      'RATE_LIMITED',
    )
    // The owner, from their usual address, is not.
    expect(
      (await loginFrom(pair.users, '192.0.2.10', 'owner@example.com', goodPassword)).statusCode,
    ).toBe(200)
  })

  it('stops all guessing at the hard limit, far below 100', async () => {
    pair = await startPair({
      usersEnv: env({
        LOCKOUT_THRESHOLD: '2',
        LOCKOUT_BASE_DELAY: '1ms',
        LOCKOUT_MAX_DELAY: '2ms',
        LOCKOUT_HARD_LIMIT: '4',
      }),
    })
    let guesses = 0
    for (let i = 0; i < 30; i++) {
      const res = await loginFrom(
        pair.users,
        '203.0.113.50',
        'target@example.com',
        `guess number ${i}`,
      )
      if (res.statusCode === 401) guesses++
      await sleep(3)
    }
    expect(guesses).toBe(4)
  })

  it('fails closed with 503 when Redis is unreachable', async () => {
    pair = await startPair({
      usersEnv: { REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: 'test:unused:' },
      waitReady: false,
    })
    const ready = await pair.users.inject({ method: 'GET', url: '/readyz' })
    expect(ready.json<{ detail: string }>().detail).toContain('redis')
    const res = await loginFrom(pair.users, '203.0.113.60', 'any@example.com', goodPassword)
    problem(res, 503, 'SERVICE_UNAVAILABLE')
  })
})
