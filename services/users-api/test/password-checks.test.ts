import type { FastifyInstance } from 'fastify'
import { describe, expect, it } from 'vitest'
import { goodPassword, problem, signup, startPair } from './pair-harness.js'

const wrong = 'not my current password'

function changePassword(app: FastifyInstance, token: string, currentPassword: string, ip: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/users/me/password',
    remoteAddress: ip,
    headers: { authorization: `Bearer ${token}` },
    payload: { currentPassword, newPassword: 'maple quartz ferry lantern 1789' },
  })
}

function deleteMe(app: FastifyInstance, token: string, password: string, ip: string) {
  return app.inject({
    method: 'DELETE',
    url: '/v1/users/me',
    remoteAddress: ip,
    headers: { authorization: `Bearer ${token}` },
    payload: { password },
  })
}

const routes = { 'password change': changePassword, 'self-delete': deleteMe }

describe.each(Object.entries(routes))('%s checks a password under both budgets', (_name, call) => {
  it('goes through the account lockout: 429 after the threshold', async () => {
    const pair = await startPair()
    const { accessToken } = await signup(pair.users, 'loop@example.com')
    for (let i = 0; i < 5; i++) {
      problem(await call(pair.users, accessToken, wrong, '203.0.113.5'), 401, 'INVALID_CREDENTIALS')
    }
    const limited = await call(pair.users, accessToken, wrong, '203.0.113.5')
    problem(limited, 429, 'RATE_LIMITED')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // Login is held back by the same lockout.
    problem(
      await pair.users.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '203.0.113.6',
        payload: { email: 'loop@example.com', password: goodPassword },
      }),
      429,
      'RATE_LIMITED',
    )
  })

  it('spends the per-IP budget', async () => {
    const pair = await startPair({
      usersEnv: { RATE_LIMIT_IP_MAX: '3', LOCKOUT_THRESHOLD: '40', LOCKOUT_HARD_LIMIT: '60' },
    })
    const { accessToken } = await signup(pair.users, 'ip@example.com')
    for (let i = 0; i < 3; i++) {
      problem(await call(pair.users, accessToken, wrong, '203.0.113.7'), 401, 'INVALID_CREDENTIALS')
    }
    problem(await call(pair.users, accessToken, wrong, '203.0.113.7'), 429, 'RATE_LIMITED')
  })
})

describe('passwords longer than auth-api takes', () => {
  // 400 code points (within the schema's 1,024) but 1,200 bytes of UTF-8.
  const wide = '€'.repeat(400)
  // 60 code points that NFKC turns into more than 1,024 bytes.
  const expanding = '\uFDFA'.repeat(60)

  it.each([
    ['wide characters', wide],
    ['NFKC expansion', expanding],
  ])('are a 400 naming the field, never sent to auth-api (%s)', async (_name, password) => {
    const pair = await startPair()
    const { accessToken } = await signup(pair.users, 'bytes@example.com')
    const login = await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 'bytes@example.com', password },
    })
    const signupRes = await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: 'other@example.com', password },
    })
    const change = await changePassword(pair.users, accessToken, password, '203.0.113.8')
    const remove = await deleteMe(pair.users, accessToken, password, '203.0.113.8')
    for (const [res, path] of [
      [login, '/password'],
      [signupRes, '/password'],
      [change, '/currentPassword'],
      [remove, '/password'],
    ] as const) {
      const body = problem(res, 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ path })])
    }
    expect(pair.logs()).not.toContain('auth-api rejected')
  })
})

describe('passwords with lone surrogates', () => {
  // UTF-8 turns each lone surrogate into U+FFFD, so these would all open one account.
  it('are a 400 naming the field at signup, login and change; never sent to auth-api', async () => {
    const pair = await startPair()
    const base = 'maple quartz ferry lantern'
    const signupRes = await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: 'lone@example.com', password: `${base}\ud800` },
    })
    const { accessToken } = await signup(pair.users, 'paired@example.com')
    const login = await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 'paired@example.com', password: `${goodPassword}\udfff` },
    })
    const change = await pair.users.inject({
      method: 'POST',
      url: '/v1/users/me/password',
      headers: { authorization: `Bearer ${accessToken}` },
      payload: { currentPassword: goodPassword, newPassword: `${base}\ud800` },
    })
    for (const [res, path] of [
      [signupRes, '/password'],
      [login, '/password'],
      [change, '/newPassword'],
    ] as const) {
      const body = problem(res, 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([expect.objectContaining({ path })])
    }
  })
})
