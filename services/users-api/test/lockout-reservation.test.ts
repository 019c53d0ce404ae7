import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, problem, signup, startPair, type Pair } from './pair-harness.js'

let redis: Redis
const prefixes: string[] = []

beforeAll(async () => {
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, connectTimeout: 2000 })
  // Fails loudly when Redis is not there: half of these tests are about the shared store.
  expect(await redis.ping()).toBe('PONG')
})
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
  }
  redis.disconnect()
})

/** How many password verifications auth-api has run, from its own /metrics. */
async function verifications(pair: Pair): Promise<number> {
  const res = await pair.auth.inject({ method: 'GET', url: '/metrics' })
  const line = res.body
    .split('\n')
    .find((l) => l.startsWith('auth_password_job_duration_seconds_count{operation="verify"}'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

const stores = {
  'in memory': () => ({}),
  'in Redis': () => {
    const prefix = `test:users-auth:${randomUUID()}:`
    prefixes.push(prefix)
    return { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix }
  },
}

describe.each(Object.entries(stores))('account lockout %s', (_name, storeEnv) => {
  it.each([
    ['an existing account', true],
    ['an unknown account', false],
  ])(
    'lets at most `threshold` of 40 concurrent wrong guesses reach auth-api, for %s',
    async (_account, exists) => {
      const pair = await startPair({ usersEnv: storeEnv() })
      if (exists) await signup(pair.users, 'target@example.com')
      const before = await verifications(pair)
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          pair.users.inject({
            method: 'POST',
            url: '/v1/auth/login',
            remoteAddress: `198.51.100.${i}`,
            payload: { email: 'target@example.com', password: `wrong guess number ${i}` },
          }),
        ),
      )
      const verified = (await verifications(pair)) - before
      const codes = answers.map((r) => r.statusCode)
      expect(verified).toBeLessThanOrEqual(5)
      expect(codes.filter((c) => c === 401).length).toBe(verified)
      expect(codes.filter((c) => c === 429)).toHaveLength(40 - verified)
      const limited = answers.find((r) => r.statusCode === 429)
      if (limited) problem(limited, 429, 'RATE_LIMITED')
    },
  )

  it('lets 8 concurrent logins with the right password all in (none counted as failed)', async () => {
    const pair = await startPair({ usersEnv: storeEnv() })
    await signup(pair.users, 'tabs@example.com')
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        post(pair.users, '/v1/auth/login', {
          email: 'tabs@example.com',
          password: 'correct horse battery staple',
        }),
      ),
    )
    expect(answers.map((r) => r.statusCode)).toEqual(Array(8).fill(200))
  })

  it('still lets the owner in from where they recently logged in', async () => {
    const pair = await startPair({ usersEnv: storeEnv() })
    await signup(pair.users, 'owner@example.com')
    const fromHome = (password: string) =>
      pair.users.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '192.0.2.10',
        payload: { email: 'owner@example.com', password },
      })
    expect((await fromHome('correct horse battery staple')).statusCode).toBe(200)
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        pair.users.inject({
          method: 'POST',
          url: '/v1/auth/login',
          remoteAddress: '198.51.100.66',
          payload: { email: 'owner@example.com', password: `attacker guess ${i}` },
        }),
      ),
    )
    expect((await fromHome('correct horse battery staple')).statusCode).toBe(200)
  })
})

describe('account lockout and a failing auth-api', () => {
  it('gives back attempts whose check never ran', async () => {
    const pair = await startPair()
    await signup(pair.users, 'outage@example.com')
    await pair.auth.close()
    for (let i = 0; i < 8; i++) {
      problem(
        await post(pair.users, '/v1/auth/login', {
          email: 'outage@example.com',
          password: 'correct horse battery staple',
        }),
        503,
        'SERVICE_UNAVAILABLE',
      )
    }
  })
})
