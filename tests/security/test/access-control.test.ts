import { beforeAll, describe, expect, inject, it } from 'vitest'
import { usersApi, type Account } from '../src/api.js'
import { claimsOf, forger } from '../src/forge.js'
import { expectProblem } from '../src/http.js'
import { fillPath, operationsOf, type Operation } from '../src/openapi.js'

// Access control (ASVS V4 / OWASP API1-API5): every route that the OpenAPI document marks as
// Bearer-protected is closed without a valid token, users only ever reach their own data, and
// the admin routes are closed to everyone else.

const pair = inject('pair')
const api = usersApi(pair)
const forge = forger(pair.privateJwks, pair.issuer, pair.audience)
let operations: Operation[]
let alice: Account
let bob: Account

beforeAll(async () => {
  operations = await operationsOf(pair.usersUrl)
  ;[alice, bob] = await Promise.all([api.signup('ac-alice'), api.signup('ac-bob')])
})

const sidOf = (account: Account) => String(claimsOf(account.session.accessToken).sid)

/** A request to `op` that would pass validation, so only the credential decides. */
function requestFor(op: Operation, authorization?: string) {
  const path = fillPath(op.path, {
    id: op.path.includes('sessions') ? sidOf(bob) : bob.session.user.id,
  })
  const bodies: Record<string, unknown> = {
    'PATCH /v1/users/me': { name: 'mallory' },
    'POST /v1/users/me/password': { currentPassword: 'x', newPassword: 'y' },
    'DELETE /v1/users/me': { password: 'x' },
  }
  const body = bodies[`${op.method} ${op.path}`]
  return {
    method: op.method,
    path,
    ...(body === undefined ? {} : { body }),
    ...(authorization === undefined ? {} : { headers: { authorization } }),
  }
}

describe('Bearer routes', () => {
  it('are documented: every route but the public ones requires a Bearer token', () => {
    const open = operations.filter((op) => !op.bearer).map((op) => `${op.method} ${op.path}`)
    // The public routes: sign-in itself, the routes whose credential is a mailed single-use
    // token, the second sign-in step, and social login (the browser arrives without a credential).
    expect(open.sort()).toEqual(
      [
        'GET /.well-known/jwks.json',
        'POST /v1/auth/email/change/confirm',
        'POST /v1/auth/email/verify',
        'POST /v1/auth/login',
        'POST /v1/auth/mfa/verify',
        'POST /v1/auth/password/forgot',
        'POST /v1/auth/password/reset',
        'POST /v1/auth/refresh',
        'POST /v1/auth/signup',
        'GET /v1/auth/oauth/providers',
        'GET /v1/auth/oauth/{provider}/start',
        'GET /v1/auth/oauth/{provider}/callback',
        'POST /v1/auth/oauth/token',
      ].sort(),
    )
    expect(operations.filter((op) => op.bearer).length).toBeGreaterThanOrEqual(10)
  })

  it('answer 401 without a token, whatever the route', async () => {
    for (const op of operations.filter((o) => o.bearer)) {
      expectProblem(await api.send(requestFor(op)), 401, 'UNAUTHORIZED')
    }
  })

  it('answer 401 to malformed Authorization headers', async () => {
    const token = alice.session.accessToken
    const malformed = [
      '',
      'Bearer',
      'Bearer ',
      `Bearer  ${token}`,
      `Bearer ${token} extra`,
      `Basic ${Buffer.from(`${alice.email}:${alice.password}`).toString('base64')}`,
      `Token ${token}`,
      `Bearer ${token},Bearer ${token}`,
      `Bearer\t${token}`,
      token,
      'Bearer null',
      'Bearer undefined',
      `Bearer ${'A'.repeat(8000)}`,
    ]
    for (const op of operations.filter((o) => o.bearer)) {
      for (const authorization of malformed) {
        const res = await api.send(requestFor(op, authorization))
        expect(res.status, `${op.method} ${op.path} with "${authorization.slice(0, 40)}"`).toBe(401)
        expectProblem(res, 401, 'UNAUTHORIZED')
      }
    }
    // Nothing was changed by any of them.
    const me = await api.get('/v1/users/me', bob.session.accessToken)
    expect(me.json<{ name: string }>().name).toBe('')
  })
})

describe('object-level authorisation (BOLA)', () => {
  it('lists only my own sessions', async () => {
    const res = await api.get('/v1/users/me/sessions', alice.session.accessToken)
    const ids = res.json<{ items: { id: string }[] }>().items.map((s) => s.id)
    expect(ids).toContain(sidOf(alice))
    expect(ids).not.toContain(sidOf(bob))
  })

  it('cannot revoke another user’s session: the answer is that of a session that does not exist', async () => {
    const foreign = await api.delete(
      `/v1/users/me/sessions/${sidOf(bob)}`,
      undefined,
      alice.session.accessToken,
    )
    const missing = await api.delete(
      `/v1/users/me/sessions/${crypto.randomUUID()}`,
      undefined,
      alice.session.accessToken,
    )
    expectProblem(foreign, 404, 'NOT_FOUND')
    expectProblem(missing, 404, 'NOT_FOUND')
    expect((await api.get('/v1/users/me', bob.session.accessToken)).status).toBe(200)
  })

  it('cannot act as another user with a token mixing identities', async () => {
    for (const token of [
      forge.sign(forge.claimsFor(bob.session.user.id, sidOf(alice))),
      forge.sign(forge.claimsFor(alice.session.user.id, sidOf(bob))),
    ]) {
      expectProblem(await api.get('/v1/users/me', token), 401, 'UNAUTHORIZED')
      expectProblem(
        await api.patch('/v1/users/me', { name: 'hijacked' }, token),
        401,
        'UNAUTHORIZED',
      )
    }
    const me = await api.get('/v1/users/me', bob.session.accessToken)
    expect(me.json<{ name: string }>().name).toBe('')
  })

  it('never reaches another user through path tricks on /me routes', async () => {
    const token = alice.session.accessToken
    for (const path of [
      `/v1/users/${bob.session.user.id}`,
      `/v1/users/me/../${bob.session.user.id}`,
      `/v1/users/%6d%65`,
      `/v1/users/ME`,
      `/v1/users/me%00`,
      `/v1/users/me;${bob.session.user.id}`,
      `/v1/users//me`,
      `/v1/users/me/`,
      `/v1/users/me?id=${bob.session.user.id}`,
      `/v1/users/me#${bob.session.user.id}`,
    ]) {
      const res = await api.get(path, token)
      expect(res.text, path).not.toContain(bob.email)
      if (res.status === 200)
        expect(res.json<{ id: string }>().id, path).toBe(alice.session.user.id)
      else expect([400, 403, 404], `${path} → ${res.status}`).toContain(res.status)
    }
  })

  it('ignores method-override headers', async () => {
    const res = await api.send({
      method: 'GET',
      path: '/v1/users/me',
      token: alice.session.accessToken,
      headers: { 'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE' },
    })
    expect(res.status).toBe(200)
    expect((await api.get('/v1/users/me', alice.session.accessToken)).status).toBe(200)
  })
})

describe('admin routes (BFLA)', () => {
  const adminOps = (id: string) =>
    [
      ['GET', '/v1/users'],
      ['GET', '/v1/users?limit=100'],
      ['GET', `/v1/users/${id}`],
      ['DELETE', `/v1/users/${id}`],
      ['PATCH', `/v1/users/${id}`],
      ['GET', `/v1/users/${id}/sessions`],
      ['DELETE', `/v1/users/${id}/sessions`],
      ['GET', `/v1/audit?userId=${id}`],
    ] as const

  it('answer 403 to a signed-in non-admin, including one whose token claims admin', async () => {
    const escalated = forge.sign(
      forge.claimsFor(alice.session.user.id, sidOf(alice), { roles: ['admin'] }),
    )
    for (const token of [alice.session.accessToken, escalated]) {
      for (const [method, path] of adminOps(bob.session.user.id)) {
        expectProblem(await api.send({ method, path, token }), 403, 'FORBIDDEN')
      }
    }
    expect((await api.get('/v1/users/me', bob.session.accessToken)).status).toBe(200)
  })

  it('answer a non-admin identically for existing and unknown user ids', async () => {
    const existing = await api.get(`/v1/users/${bob.session.user.id}`, alice.session.accessToken)
    const unknown = await api.get('/v1/users/0123456789abcdef01234567', alice.session.accessToken)
    expect(expectProblem(existing, 403, 'FORBIDDEN').detail).toBe(
      expectProblem(unknown, 403, 'FORBIDDEN').detail,
    )
  })

  it('work for the admin created with admin:create, and never return a hash', async () => {
    const admin = await api.adminToken()
    const list = await api.get('/v1/users?limit=100', admin)
    expect(list.status, list.text).toBe(200)
    expect(list.text).not.toMatch(/argon2|passwordHash|refreshToken/)
    const one = await api.get(`/v1/users/${bob.session.user.id}`, admin)
    expect(one.json()).toEqual(bob.session.user)
  })
})
