import { performance } from 'node:perf_hooks'
import { createAuthApi } from 'auth-api/create'
import { describe, expect, it } from 'vitest'
import { goodPassword, post, problem, signup, startPair, type SessionBody } from './pair-harness.js'

function withoutTraceId(body: Record<string, unknown>): Record<string, unknown> {
  const { traceId: _traceId, ...rest } = body
  return rest
}

describe('POST /v1/auth/login', () => {
  it('starts a new session with fresh tokens', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'dana@example.com')
    const res = await post(pair.users, '/v1/auth/login', {
      email: ' DANA@example.com',
      password: goodPassword,
    })
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const body = res.json<SessionBody>()
    expect(body.user).toEqual(first.user)
    expect(body.refreshToken).not.toBe(first.refreshToken)
    expect(await pair.db.collection('sessions').countDocuments()).toBe(2)
  })

  it('answers an unknown email exactly like a wrong password', async () => {
    const pair = await startPair()
    await signup(pair.users, 'erin@example.com')
    const wrong = await post(pair.users, '/v1/auth/login', {
      email: 'erin@example.com',
      password: 'not the right password',
    })
    const unknown = await post(pair.users, '/v1/auth/login', {
      email: 'nobody@example.com',
      password: 'not the right password',
    })
    const a = problem(wrong, 401, 'INVALID_CREDENTIALS')
    const b = problem(unknown, 401, 'INVALID_CREDENTIALS')
    expect(withoutTraceId(a)).toEqual(withoutTraceId(b))
    const headerNames = (r: typeof wrong) =>
      Object.keys(r.headers)
        .filter((h) => !['date', 'x-request-id', 'content-length'].includes(h))
        .sort()
    expect(headerNames(wrong)).toEqual(headerNames(unknown))
  })

  it('costs an unknown email what a wrong password costs (both run argon2 in auth-api)', async () => {
    // Real argon2 cost here, so that skipping the hash for unknown emails would stand out.
    const pair = await startPair({
      authEnv: { ARGON2_MEMORY_KIB: '19456', ARGON2_ITERATIONS: '2' },
      usersEnv: { LOCKOUT_THRESHOLD: '40', LOCKOUT_HARD_LIMIT: '60' },
    })
    await signup(pair.users, 'timing@example.com')
    const p = pair
    const time = async (email: string): Promise<number> => {
      const started = performance.now()
      const res = await post(p.users, '/v1/auth/login', { email, password: 'wrong password guess' })
      expect(res.statusCode).toBe(401)
      return performance.now() - started
    }
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 12; i++) {
      known.push(await time('timing@example.com'))
      unknown.push(await time(`nobody${i}@example.com`))
    }
    // Differences within each interleaved pair: a busy moment slows both halves of a pair,
    // while a path that skipped argon2 would differ by the whole hash cost every time.
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0
    const gap = Math.abs(median(known.map((k, i) => k - (unknown[i] ?? 0))))
    expect(gap).toBeLessThan(median(known) * 0.5)
    const verifies = await p.auth.inject({ method: 'GET', url: '/metrics' })
    expect(verifies.body).toMatch(
      /auth_password_job_duration_seconds_count\{operation="verify"\} 24/,
    )
  })

  it('refuses logins at once, for a moment, after auth-api said it is at capacity', async () => {
    // One hashing slot and a tiny wait budget: a burst of logins overflows auth-api at once.
    const realArgon2 = { ARGON2_MEMORY_KIB: '19456', ARGON2_ITERATIONS: '2' }
    const authEnv = { ...realArgon2, HASH_CONCURRENCY: '1', HASH_QUEUE_BUDGET_MS: '1' }
    const pair = await startPair({ authEnv, usersEnv: { RATE_LIMIT_IP_MAX: '1000' } })
    await signup(pair.users, 'busy@example.com')
    const body = { email: 'busy@example.com', password: goodPassword }
    let refused: () => void = () => undefined
    const firstRefusal = new Promise<void>((resolve) => (refused = resolve))
    const burst = Array.from({ length: 12 }, () =>
      post(pair.users, '/v1/auth/login', body).then((res) => {
        if (res.statusCode === 503) refused()
        return res
      }),
    )
    await firstRefusal
    // Sent right after auth-api's refusal: users-api refuses it without calling auth-api.
    const next = await post(pair.users, '/v1/auth/login', body)
    problem(next, 503, 'SERVICE_UNAVAILABLE')
    expect(Number(next.headers['retry-after'])).toBeGreaterThan(0)
    for (const res of await Promise.all(burst)) {
      expect([200, 503]).toContain(res.statusCode)
      if (res.statusCode === 503) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    }
    const metrics = (await pair.auth.inject({ method: 'GET', url: '/metrics' })).body
    const reached = metrics
      .split('\n')
      .filter((line) => line.startsWith('http_requests_total{') && line.includes('/v1/logins'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
    expect(reached).toBeLessThanOrEqual(12)
  })

  it('rehashes the stored password when auth-api asks for it', async () => {
    const pair = await startPair({ authEnv: { ARGON2_MEMORY_KIB: '2048' } })
    // A hash made with weaker parameters than auth-api now uses.
    const weak = await createAuthApi({
      NODE_ENV: 'test',
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
    })
    const { hash } = (
      await weak.app.inject({
        method: 'POST',
        url: '/v1/passwords/hash',
        headers: { authorization: 'Bearer dev-internal-token-not-for-production' },
        payload: { password: goodPassword },
      })
    ).json<{ hash: string }>()
    await weak.app.close()
    const now = new Date()
    await pair.db.collection('users').insertOne({
      email: 'old@example.com',
      name: '',
      passwordHash: hash,
      roles: ['user'],
      passwordChangedAt: now,
      createdAt: now,
      updatedAt: now,
    })
    expect(
      (
        await post(pair.users, '/v1/auth/login', {
          email: 'old@example.com',
          password: goodPassword,
        })
      ).statusCode,
    ).toBe(200)
    const stored = await pair.db.collection('users').findOne({ email: 'old@example.com' })
    expect(stored?.passwordHash).toContain('m=2048')
    expect(
      (
        await post(pair.users, '/v1/auth/login', {
          email: 'old@example.com',
          password: goodPassword,
        })
      ).statusCode,
    ).toBe(200)
  })

  it('rejects operator objects and unknown fields without looking anything up', async () => {
    const pair = await startPair()
    await signup(pair.users, 'frank@example.com')
    for (const body of [
      { email: 'frank@example.com', password: { $ne: null } },
      { email: { $gt: '' }, password: goodPassword },
      { email: 'frank@example.com', password: goodPassword, remember: true },
    ]) {
      problem(await post(pair.users, '/v1/auth/login', body), 400, 'VALIDATION_FAILED')
    }
  })

  it('answers 503, not 401, when auth-api cannot verify', async () => {
    const pair = await startPair()
    await signup(pair.users, 'gina@example.com')
    await pair.auth.close()
    const res = await post(pair.users, '/v1/auth/login', {
      email: 'gina@example.com',
      password: goodPassword,
    })
    problem(res, 503, 'SERVICE_UNAVAILABLE')
    expect(res.headers['retry-after']).toBeDefined()
  })
})
