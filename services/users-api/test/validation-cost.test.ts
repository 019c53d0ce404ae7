import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { goodPassword, problem, signup, startPair } from './pair-harness.js'

// Contract: no input the 16 KiB body limit admits makes validation take more than a few ms,
// and every such request is counted against the per-IP budget before it is parsed.
// The bound is generous (a busy CI machine); the quadratic email pattern took 0.5–5 s.
const boundMs = 100

const near16k = 16_000
const craftedEmails = {
  'dotted domain ending in @': `a@${'a.'.repeat(near16k / 2)}@`,
  'dots only': `a@${'.'.repeat(near16k)} x`,
  'leading spaces': `${' '.repeat(near16k)}a@b`,
  'spaces inside': `a@b.c${' '.repeat(near16k / 2)}x${' '.repeat(near16k / 2)}`,
  'no at sign': 'a'.repeat(near16k),
  'many at signs': '@'.repeat(near16k),
}

const craftedBodies: Record<string, { url: string; payload: string }> = {
  ...Object.fromEntries(
    Object.entries(craftedEmails).map(([name, email]) => [
      `login email: ${name}`,
      { url: '/v1/auth/login', payload: JSON.stringify({ email, password: goodPassword }) },
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(craftedEmails).map(([name, email]) => [
      `signup email: ${name}`,
      { url: '/v1/auth/signup', payload: JSON.stringify({ email, password: goodPassword }) },
    ]),
  ),
  'long password': {
    url: '/v1/auth/login',
    payload: JSON.stringify({ email: 'a@b.co', password: 'é'.repeat(near16k / 2) }),
  },
  'long name': {
    url: '/v1/auth/signup',
    payload: JSON.stringify({ email: 'a@b.co', password: goodPassword, name: 'n'.repeat(near16k) }),
  },
  'long refresh token': {
    url: '/v1/auth/refresh',
    payload: JSON.stringify({ refreshToken: `${'0'.repeat(36)}.${'A'.repeat(near16k)}` }),
  },
  'many unknown fields': {
    url: '/v1/auth/login',
    payload: JSON.stringify(
      Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`f${i}`, 1])),
    ),
  },
  'deeply nested value': {
    url: '/v1/auth/login',
    payload: `{"email":${'['.repeat(2000)}${']'.repeat(2000)},"password":"x"}`,
  },
  'wrong types everywhere': {
    url: '/v1/auth/signup',
    payload: JSON.stringify({ email: [1, 2, 3], password: { $ne: null }, name: 7 }),
  },
}

function postRaw(app: FastifyInstance, url: string, payload: string, ip: string) {
  return app.inject({
    method: 'POST',
    url,
    payload,
    remoteAddress: ip,
    headers: { 'content-type': 'application/json' },
  })
}

describe('validation cost', () => {
  it('refuses every crafted body within a few ms, with the first error only', async () => {
    const pair = await startPair()
    const app = pair.users
    for (const [name, { url, payload }] of Object.entries(craftedBodies)) {
      expect(Buffer.byteLength(payload), name).toBeLessThanOrEqual(16 * 1024)
      // Warm once (first use compiles the route's validator), then take the fastest of three:
      // other work on a busy machine only ever adds time.
      let res = await postRaw(app, url, payload, '203.0.113.1')
      let elapsed = Infinity
      for (let i = 0; i < 3; i++) {
        const started = performance.now()
        res = await postRaw(app, url, payload, '203.0.113.1')
        elapsed = Math.min(elapsed, performance.now() - started)
      }
      const body = problem(res, 400, 'VALIDATION_FAILED')
      expect(elapsed, name).toBeLessThan(boundMs)
      // One failing rule (a `required` rule may name both missing fields).
      const errors = body.errors as unknown[] | undefined
      if (errors) expect(errors.length, name).toBeLessThanOrEqual(2)
    }
  })

  it('keeps /healthz responsive while crafted bodies arrive', async () => {
    const pair = await startPair()
    const app = pair.users
    const flood = Array.from({ length: 20 }, (_, i) =>
      postRaw(
        app,
        '/v1/auth/login',
        JSON.stringify({ email: Object.values(craftedEmails)[i % 6], password: goodPassword }),
        `198.51.100.${i}`,
      ),
    )
    const started = performance.now()
    const health = await app.inject({ method: 'GET', url: '/healthz' })
    const healthMs = performance.now() - started
    const answers = await Promise.all(flood)
    expect(health.statusCode).toBe(200)
    expect(healthMs).toBeLessThan(20 * boundMs)
    for (const res of answers) expect(res.statusCode).toBe(400)
  })

  it('still accepts ordinary addresses, trimmed and lower-cased', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, '  Ada.Lovelace+test@Mail.Example.co.uk ')
    expect(session.user.email).toBe('ada.lovelace+test@mail.example.co.uk')
    for (const email of ['a@b', 'a@b.', 'a@.b', 'a@b..c', 'a b@c.d', 'a@b@c.d']) {
      problem(
        await postRaw(
          pair.users,
          '/v1/auth/login',
          JSON.stringify({ email, password: goodPassword }),
          '203.0.113.2',
        ),
        400,
        'VALIDATION_FAILED',
      )
    }
  })
})

describe('per-IP budget before parsing', () => {
  it('counts invalid, unparsable and oversized requests: the 31st in a window is 429', async () => {
    const pair = await startPair({ usersEnv: { RATE_LIMIT_IP_MAX: '30' } })
    const app = pair.users
    const ip = '203.0.113.77'
    const bodies = Object.values(craftedBodies)
    const codes: number[] = []
    for (let i = 0; i < 28; i++) {
      const { url, payload } = bodies[i % bodies.length]!
      codes.push((await postRaw(app, url, payload, ip)).statusCode)
    }
    codes.push((await postRaw(app, '/v1/auth/login', '{"email":', ip)).statusCode)
    codes.push((await postRaw(app, '/v1/auth/login', `"${'x'.repeat(20_000)}"`, ip)).statusCode)
    expect(new Set(codes)).toEqual(new Set([400, 413]))
    const limited = await postRaw(
      app,
      '/v1/auth/login',
      JSON.stringify({ email: 'a@b.co', password: goodPassword }),
      ip,
    )
    problem(limited, 429, 'RATE_LIMITED')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // Another client has its own budget.
    expect(
      (
        await postRaw(
          app,
          '/v1/auth/login',
          JSON.stringify({ email: 'a@b.co', password: goodPassword }),
          '203.0.113.78',
        )
      ).statusCode,
    ).toBe(401)
  })

  it('counts an IPv6 client by its /64', async () => {
    const pair = await startPair({ usersEnv: { RATE_LIMIT_IP_MAX: '2' } })
    const app = pair.users
    const body = JSON.stringify({ email: 'a@b.co', password: 'x' })
    expect((await postRaw(app, '/v1/auth/login', body, '2001:db8:1:2::1')).statusCode).toBe(401)
    expect((await postRaw(app, '/v1/auth/login', body, '2001:db8:1:2:ffff::9')).statusCode).toBe(
      401,
    )
    problem(await postRaw(app, '/v1/auth/login', body, '2001:db8:1:2:abcd::7'), 429, 'RATE_LIMITED')
    expect((await postRaw(app, '/v1/auth/login', body, '2001:db8:1:3::1')).statusCode).toBe(401)
  })
})
