import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { usersApi, type Account, type UsersApi } from '../src/api.js'
import { expectProblem, withoutTraceId, type Response } from '../src/http.js'
import { newEmail, startPair, type RunningPair } from '../src/pair.js'

// Throttling as an enumeration channel (contract "Throttling"; ASVS 2.2.1, 2.1.x): a pair of
// its own with the default limits (5 consecutive failures per account, 30 attempts per minute
// per IP). A lockout must look the same for an account that exists and one that does not, and
// the per-IP limit must not be sidestepped with a forged X-Forwarded-For.

let pair: RunningPair
let api: UsersApi
let known: Account

beforeAll(async () => {
  pair = await startPair({ mongoBaseUri: inject('mongoBaseUri'), logFile: inject('logFile') })
  api = usersApi(pair)
  known = await api.signup('lockout-known')
})
afterAll(async () => {
  await pair.stop()
})

/** What a client can compare between two answers. */
function fingerprint(res: Response) {
  const isJson = res.headers['content-type']?.includes('json') ?? false
  return {
    status: res.status,
    body: isJson ? withoutTraceId(res.json()) : res.text,
    retryAfter: res.headers['retry-after'] !== undefined,
    headers: Object.keys(res.headers)
      .filter(
        (h) =>
          ![
            'date',
            'x-request-id',
            'retry-after',
            'x-ratelimit-remaining',
            'x-ratelimit-reset',
          ].includes(h),
      )
      .sort(),
  }
}

describe('account lockout', () => {
  it('answers the same for an existing and an unknown account, attempt by attempt', async () => {
    const unknownEmail = newEmail('lockout-nobody')
    const attempts = 7
    const existing: Response[] = []
    const unknown: Response[] = []
    for (let i = 0; i < attempts; i++) {
      existing.push(
        await api.post('/v1/auth/login', { email: known.email, password: `wrong ${String(i)}` }),
      )
      unknown.push(
        await api.post('/v1/auth/login', { email: unknownEmail, password: `wrong ${String(i)}` }),
      )
    }
    for (let i = 0; i < attempts; i++) {
      const [a, b] = [existing[i], unknown[i]]
      if (!a || !b) throw new Error('missing answer')
      expect(fingerprint(a), `attempt ${String(i + 1)}`).toEqual(fingerprint(b))
      const delays = [a, b].map((r) => Number(r.headers['retry-after'] ?? 0))
      expect(
        Math.abs((delays[0] ?? 0) - (delays[1] ?? 0)),
        `attempt ${String(i + 1)}`,
      ).toBeLessThanOrEqual(1)
      if (a.status === 429) {
        expectProblem(a, 429, 'RATE_LIMITED')
        expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      } else {
        expectProblem(a, 401, 'INVALID_CREDENTIALS')
      }
    }
    // The throttle engages within the contract's budget: five failures, then 429.
    expect(existing.slice(0, 5).map((r) => r.status)).toEqual([401, 401, 401, 401, 401])
    expect(existing.slice(5).map((r) => r.status)).toEqual([429, 429])
  })

  it('locks the account even for the right password while the delay runs', async () => {
    const res = await api.post('/v1/auth/login', { email: known.email, password: known.password })
    expectProblem(res, 429, 'RATE_LIMITED')
    expect(res.text).not.toContain('accessToken')
  })
})

describe('per-IP limit', () => {
  it('stops login, signup and refresh from one client after the limit, whatever X-Forwarded-For says', async () => {
    let limited: Response | undefined
    for (let i = 0; i < 40 && !limited; i++) {
      const res = await api.post('/v1/auth/refresh', { refreshToken: `nope-${String(i)}` })
      if (res.status === 429) limited = res
      else expectProblem(res, 401, 'REFRESH_TOKEN_INVALID')
    }
    expect(limited, 'no 429 within 40 attempts').toBeDefined()
    if (!limited) return
    expectProblem(limited, 429, 'RATE_LIMITED')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    for (const [path, body] of [
      ['/v1/auth/login', { email: newEmail('ip'), password: 'x' }],
      ['/v1/auth/signup', { email: newEmail('ip'), password: 'a long enough new password' }],
      ['/v1/auth/refresh', { refreshToken: 'nope' }],
    ] as const) {
      for (const forwarded of [undefined, '203.0.113.7', '203.0.113.8, 127.0.0.1', '::1']) {
        const res = await api.send({
          method: 'POST',
          path,
          body,
          ...(forwarded === undefined ? {} : { headers: { 'x-forwarded-for': forwarded } }),
        })
        expectProblem(res, 429, 'RATE_LIMITED')
      }
    }
  })
})
