import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { enrolledAccount, mfaToken, testClock, totpCode, wrongCode } from './mfa-harness.js'
import { goodPassword, post, problem, startPair, startReplica } from './pair-harness.js'
import { testRedis } from './redis-harness.js'

// The budget must be shared by replicas.
const redis = testRedis('mfa:')
const replicas: FastifyInstance[] = []

afterEach(async () => {
  for (const app of replicas.splice(0)) await app.close()
})

function sharedEnv(): Record<string, string> {
  return { REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix(), LOCKOUT_THRESHOLD: '5' }
}

/** How many code checks auth-api has run, from its request metrics. */
async function totpChecks(auth: FastifyInstance): Promise<number> {
  const metrics = (await auth.inject({ method: 'GET', url: '/metrics' })).body
  let total = 0
  for (const line of metrics.split('\n')) {
    if (line.startsWith('http_requests_total{') && line.includes('route="/v1/totp/verify"'))
      total += Number(line.split(' ').at(-1))
  }
  return total
}

describe('the code budget', () => {
  it('lets 40 concurrent wrong codes run no more checks than the budget, across two replicas', async () => {
    const clock = testClock()
    const env = sharedEnv()
    const pair = await startPair({ now: clock.users, authNow: clock.auth, usersEnv: env })
    const other = await startReplica(pair, { ...env, RATE_LIMIT_IP_MAX: '1000' })
    replicas.push(other)
    const account = await enrolledAccount(pair.users, 'ivy@example.com', clock)
    const tokens = await Promise.all(
      Array.from({ length: 8 }, () => mfaToken(pair.users, account.email)),
    )
    const before = await totpChecks(pair.auth)
    const bad = wrongCode(account.secret, clock.ms)
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(i % 2 === 0 ? pair.users : other, '/v1/auth/mfa/verify', {
          mfaToken: tokens[i % tokens.length],
          code: bad,
        }),
      ),
    )
    const checks = (await totpChecks(pair.auth)) - before
    expect(checks).toBeGreaterThan(0)
    expect(checks).toBeLessThanOrEqual(5)
    const limited = answers.filter((a) => a.statusCode === 429)
    expect(limited.length).toBeGreaterThan(0)
    for (const a of limited) {
      problem(a, 429, 'RATE_LIMITED')
      expect(Number(a.headers['retry-after'])).toBeGreaterThan(0)
    }
    for (const a of answers.filter((x) => x.statusCode !== 429)) problem(a, 401, 'INVALID_MFA_CODE')
    // Even the right code waits now: the budget is the account's, whichever replica asks.
    problem(
      await post(other, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(pair.users, account.email),
        code: totpCode(account.secret, clock.ms),
      }),
      429,
      'RATE_LIMITED',
    )
  })

  it('is apart from the password lockout: wrong codes leave the password usable, wrong passwords leave the factor usable', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth, usersEnv: sharedEnv() })
    const account = await enrolledAccount(pair.users, 'jo@example.com', clock)

    // Wrong codes until the code budget refuses…
    const bad = wrongCode(account.secret, clock.ms)
    let refused = false
    for (let i = 0; i < 10 && !refused; i++) {
      const res = await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(pair.users, account.email),
        code: bad,
      })
      refused = res.statusCode === 429
    }
    expect(refused).toBe(true)
    // …and the password still passes: login answers MFA_REQUIRED, not 429.
    await mfaToken(pair.users, account.email)

    // The other way round, on a fresh account: an mfaToken taken, then the password locked.
    const victim = await enrolledAccount(pair.users, 'kim@example.com', clock)
    const token = await mfaToken(pair.users, victim.email)
    let locked = false
    for (let i = 0; i < 10 && !locked; i++) {
      const res = await post(pair.users, '/v1/auth/login', {
        email: victim.email,
        password: 'a guess that is wrong',
      })
      locked = res.statusCode === 429
    }
    expect(locked).toBe(true)
    problem(
      await post(pair.users, '/v1/auth/login', { email: victim.email, password: goodPassword }),
      429,
      'RATE_LIMITED',
    )
    const res = await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: token,
      code: totpCode(victim.secret, clock.ms),
    })
    expect(res.statusCode, res.body).toBe(200)
  })

  it('spends from the per-IP budget before the body is parsed', async () => {
    const pair = await startPair({ usersEnv: { RATE_LIMIT_IP_MAX: '3' } })
    const codes: number[] = []
    for (let i = 0; i < 4; i++) {
      const res = await pair.users.inject({
        method: 'POST',
        url: '/v1/auth/mfa/verify',
        remoteAddress: '198.51.100.9',
        headers: { 'content-type': 'application/json' },
        payload: '{"not json',
      })
      codes.push(res.statusCode)
    }
    expect(codes).toEqual([400, 400, 400, 429])
  })
})
