import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { FaultProxy } from './fault-proxy.js'
import {
  get,
  goodPassword,
  post,
  problem,
  send,
  signup,
  startPair,
  waitUntilReady,
  type SessionBody,
} from './pair-harness.js'

const proxies: FaultProxy[] = []
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.stop()
})

interface Readiness {
  status?: string
  code?: string
  detail?: string
  checks: Record<string, string>
}

describe('operations', () => {
  it('is ready with MongoDB and auth-api keys; /healthz never checks them', async () => {
    const pair = await startPair()
    const ready = await get(pair.users, '/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json<Readiness>()).toEqual({
      status: 'ok',
      checks: { mongodb: 'ok', 'auth-api keys': 'ok', 'auth-api credential': 'ok' },
    })
    expect((await get(pair.users, '/healthz')).statusCode).toBe(200)
  })

  it('starts and stays live but not ready while auth-api is unreachable', async () => {
    const pair = await startPair({ authUrl: 'http://127.0.0.1:9' })
    expect((await get(pair.users, '/healthz')).statusCode).toBe(200)
    const ready = await get(pair.users, '/readyz')
    expect(ready.statusCode).toBe(503)
    const body = ready.json<Readiness>()
    expect(body.detail).toContain('auth-api')
    expect(body.checks).toMatchObject({
      'auth-api keys': 'failing',
      'auth-api credential': 'failing',
    })
  })

  it('is not ready while auth-api refuses its service credential, and says so', async () => {
    const wrong = 'a-wrong-credential-0123456789abcdef0123456'
    const pair = await startPair({ usersEnv: { INTERNAL_API_TOKEN: wrong }, waitReady: false })
    // MongoDB may take a moment to answer; the credential never will be accepted.
    let ready = await get(pair.users, '/readyz')
    for (let i = 0; i < 100 && ready.json<Readiness>().checks.mongodb !== 'ok'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      ready = await get(pair.users, '/readyz')
    }
    expect(ready.statusCode).toBe(503)
    // auth-api's keys are public, so they load; the credential is what is wrong.
    expect(ready.json<Readiness>().checks).toEqual({
      mongodb: 'ok',
      'auth-api keys': 'ok',
      'auth-api credential': 'credential refused',
    })
    expect(ready.body).not.toContain(wrong)
    expect(pair.logs()).toContain('not ready: auth-api refuses the service credential')
    expect(pair.logs()).not.toContain(wrong)
  })

  it('stays ready through a later auth-api outage, which turns its routes into 503s', async () => {
    const proxy = new FaultProxy({ host: '127.0.0.1', port: 1 })
    proxies.push(proxy)
    const pair = await startPair({ authUrl: await proxy.start(), waitReady: false })
    proxy.retarget(pair.authUrl)
    await waitUntilReady(pair.users)
    proxy.mode = 'refuse'
    proxy.cut()
    const res = await post(pair.users, '/v1/auth/signup', {
      email: 'outage@example.com',
      password: goodPassword,
    })
    problem(res, 503, 'SERVICE_UNAVAILABLE')
    const ready = await get(pair.users, '/readyz')
    expect(ready.statusCode).toBe(200)
    expect(ready.json<Readiness>().checks['auth-api credential']).toBe('ok')
  })

  it('answers a request auth-api refuses with a logged 500, never auth-api’s own answer', async () => {
    const wrong = 'a-wrong-credential-0123456789abcdef0123456'
    const pair = await startPair({ usersEnv: { INTERNAL_API_TOKEN: wrong }, waitReady: false })
    const res = await post(pair.users, '/v1/auth/signup', {
      email: 'refused@example.com',
      password: goodPassword,
    })
    const body = problem(res, 500, 'INTERNAL')
    expect(body.detail).toBe('An unexpected error occurred.')
    expect(res.body).not.toMatch(/auth-api|UNAUTHORIZED|credential|401/)
    const failure = pair
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
      .find((l) => l.msg === 'request failed')
    expect(failure?.level).toBe(50)
    expect(failure?.err?.message).toContain('auth-api refused the service credential (401')
    expect(pair.logs()).not.toContain(wrong)
    expect(await pair.db.collection('users').countDocuments()).toBe(0)
  })

  it('serves the OpenAPI document with every public route, and Swagger UI', async () => {
    const pair = await startPair()
    const doc = (await get(pair.users, '/openapi.json')).json<{
      paths: Record<string, Record<string, unknown>>
    }>()
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    )
    expect(routes.sort()).toEqual(
      [
        'POST /v1/auth/signup',
        'POST /v1/auth/login',
        'POST /v1/auth/refresh',
        'POST /v1/auth/logout',
        'GET /v1/users/me',
        'PATCH /v1/users/me',
        'POST /v1/users/me/password',
        'DELETE /v1/users/me',
        'GET /v1/users/me/sessions',
        'DELETE /v1/users/me/sessions/{id}',
        'GET /v1/users/',
        'GET /v1/users/{id}',
        'DELETE /v1/users/{id}',
        'DELETE /v1/users/me/sessions',
        'GET /v1/users/me/activity',
        'PATCH /v1/users/{id}',
        'GET /v1/users/{id}/sessions',
        'DELETE /v1/users/{id}/sessions',
        'GET /v1/audit',
        'POST /v1/auth/email/verify/send',
        'POST /v1/auth/email/verify',
        'POST /v1/auth/password/forgot',
        'POST /v1/auth/password/reset',
        'POST /v1/users/me/email',
        'POST /v1/auth/email/change/confirm',
        'POST /v1/users/me/mfa/totp',
        'POST /v1/users/me/mfa/totp/confirm',
        'DELETE /v1/users/me/mfa/totp',
        'POST /v1/users/me/mfa/recovery-codes',
        'POST /v1/auth/mfa/verify',
        'GET /.well-known/jwks.json',
        'GET /v1/auth/oauth/providers',
        'GET /v1/auth/oauth/{provider}/start',
        'GET /v1/auth/oauth/{provider}/callback',
        'POST /v1/auth/oauth/token',
        'GET /v1/users/me/identities/',
        'POST /v1/users/me/identities/{provider}',
        'DELETE /v1/users/me/identities/{provider}',
      ].sort(),
    )
    expect((await get(pair.users, '/docs/')).statusCode).toBe(200)
  })

  it('re-serves auth-api’s JWKS with a cache header', async () => {
    const pair = await startPair()
    const res = await get(pair.users, '/.well-known/jwks.json')
    expect(res.headers['cache-control']).toBe('public, max-age=300')
    const fromAuth = await pair.auth.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    expect(res.json()).toEqual(fromAuth.json())
  })

  it('forwards X-Request-Id to auth-api so one request can be followed across both', async () => {
    const pair = await startPair()
    await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      headers: { 'x-request-id': 'trace-across-both' },
      payload: { email: 'trace@example.com', password: goodPassword },
    })
    const lines = pair
      .logs()
      .split('\n')
      .filter((l) => l.includes('"requestId":"trace-across-both"'))
    const paths = lines
      .map((l) => (JSON.parse(l) as { req?: { path: string } }).req?.path)
      .filter(Boolean)
    expect(paths).toEqual(
      expect.arrayContaining(['/v1/auth/signup', '/v1/passwords/hash', '/v1/tokens']),
    )
  })

  it('keeps CORS closed unless origins are listed, and then allows only those', async () => {
    const preflight = (app: FastifyInstance, origin: string) =>
      app.inject({
        method: 'OPTIONS',
        url: '/v1/auth/login',
        headers: { origin, 'access-control-request-method': 'POST' },
      })
    const closed = await startPair()
    expect(
      (await preflight(closed.users, 'https://evil.example')).headers[
        'access-control-allow-origin'
      ],
    ).toBeUndefined()
    await closed.close()
    const open = await startPair({ usersEnv: { CORS_ORIGINS: 'https://app.example' } })
    expect(
      (await preflight(open.users, 'https://app.example')).headers['access-control-allow-origin'],
    ).toBe('https://app.example')
    expect(
      (await preflight(open.users, 'https://evil.example')).headers['access-control-allow-origin'],
    ).toBeUndefined()
  })

  it('never writes a password, hash or token to the logs of either service', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'secrets@example.com')
    const again = (
      await post(pair.users, '/v1/auth/login', {
        email: 'secrets@example.com',
        password: goodPassword,
      })
    ).json<SessionBody>()
    await post(pair.users, '/v1/auth/login', {
      email: 'secrets@example.com',
      password: 'wrong-password-value-123',
    })
    const refreshed = (
      await post(pair.users, '/v1/auth/refresh', { refreshToken: again.refreshToken })
    ).json<SessionBody>()
    await post(
      pair.users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword: 'new-password-value-4567' },
      s.accessToken,
    )
    await send(
      pair.users,
      'DELETE',
      '/v1/users/me',
      { password: 'new-password-value-4567' },
      s.accessToken,
    )
    const logs = pair.logs()
    expect(logs).toContain('/v1/auth/refresh')
    const stored = 'argon2id'
    for (const secret of [
      goodPassword,
      'wrong-password-value-123',
      'new-password-value-4567',
      s.accessToken,
      s.refreshToken,
      again.refreshToken,
      refreshed.accessToken,
      refreshed.refreshToken,
      'pair-test-credential',
      stored,
    ]) {
      expect(logs).not.toContain(secret)
    }
  })
})
