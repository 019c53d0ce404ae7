import { describe, expect, it } from 'vitest'
import {
  get,
  goodPassword,
  login,
  makeAdmin,
  post,
  problem,
  send,
  signup,
  startPair,
  type Pair,
} from './pair-harness.js'

interface UserBody {
  id: string
  roles: string[]
  disabled: boolean
  emailVerified: boolean
}

function patchUser(p: Pair, id: string, body: unknown, token: string) {
  return send(p.users, 'PATCH', `/v1/users/${id}`, body, token)
}

describe('account administration', () => {
  it('is closed to anonymous callers (401) and to non-admins (403)', async () => {
    const pair = await startPair()
    const user = await signup(pair.users, 'plain@example.com')
    const id = user.user.id
    const routes = [
      ['PATCH', `/v1/users/${id}`, { disabled: true }],
      ['GET', `/v1/users/${id}/sessions`, undefined],
      ['DELETE', `/v1/users/${id}/sessions`, undefined],
      ['GET', '/v1/audit', undefined],
    ] as const
    for (const [method, url, payload] of routes) {
      const request = { method, url, ...(payload ? { payload } : {}) }
      problem(await pair.users.inject(request), 401, 'UNAUTHORIZED')
      problem(
        await pair.users.inject({
          ...request,
          headers: { authorization: `Bearer ${user.accessToken}` },
        }),
        403,
        'FORBIDDEN',
      )
    }
    problem(await get(pair.users, '/v1/users/me/activity'), 401, 'UNAUTHORIZED')
    problem(await send(pair.users, 'DELETE', '/v1/users/me/sessions'), 401, 'UNAUTHORIZED')
    // The refusals changed nothing: the user is live and not disabled.
    const me = await get(pair.users, '/v1/users/me', user.accessToken)
    expect(me.json<UserBody>().disabled).toBe(false)
  })

  it('disabling ends every session at once: the next request, refresh and login are refused', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'admin@example.com')
    const victim = await signup(pair.users, 'victim@example.com')
    const second = await login(pair.users, 'victim@example.com')
    expect((await get(pair.users, '/v1/users/me', victim.accessToken)).statusCode).toBe(200)

    const res = await patchUser(pair, victim.user.id, { disabled: true }, admin)
    expect(res.statusCode).toBe(200)
    expect(res.json<UserBody>()).toMatchObject({ id: victim.user.id, disabled: true })

    for (const token of [victim.accessToken, second.accessToken]) {
      problem(await get(pair.users, '/v1/users/me', token), 401, 'UNAUTHORIZED')
    }
    for (const refreshToken of [victim.refreshToken, second.refreshToken]) {
      problem(
        await post(pair.users, '/v1/auth/refresh', { refreshToken }),
        401,
        'REFRESH_TOKEN_INVALID',
      )
    }
    // Only the right password learns that the account is disabled.
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'victim@example.com',
        password: goodPassword,
      }),
      403,
      'ACCOUNT_DISABLED',
    )
    const wrong = problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'victim@example.com',
        password: 'not the password at all',
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    const unknown = problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'nobody@example.com',
        password: 'not the password at all',
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    expect(wrong.detail).toBe(unknown.detail)
    const victimSessions = await get(pair.users, `/v1/users/${victim.user.id}/sessions`, admin)
    expect(victimSessions.json()).toEqual({ items: [] })

    const enabled = await patchUser(pair, victim.user.id, { disabled: false }, admin)
    expect(enabled.json<UserBody>().disabled).toBe(false)
    const again = await login(pair.users, 'victim@example.com')
    expect((await get(pair.users, '/v1/users/me', again.accessToken)).statusCode).toBe(200)
    // Enabling revives no session that disabling ended.
    problem(await get(pair.users, '/v1/users/me', victim.accessToken), 401, 'UNAUTHORIZED')
  })

  it('leaves no live session behind when logins race the disable', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'admin@example.com')
    const victim = await signup(pair.users, 'racer@example.com')
    const logins = Array.from({ length: 6 }, () =>
      post(pair.users, '/v1/auth/login', { email: 'racer@example.com', password: goodPassword }),
    )
    const [disable, ...answers] = await Promise.all([
      patchUser(pair, victim.user.id, { disabled: true }, admin),
      ...logins,
    ])
    expect(disable.statusCode).toBe(200)
    for (const answer of answers) {
      expect([200, 403]).toContain(answer.statusCode)
      if (answer.statusCode !== 200) continue
      const session = answer.json<{ accessToken: string; refreshToken: string }>()
      problem(await get(pair.users, '/v1/users/me', session.accessToken), 401, 'UNAUTHORIZED')
      problem(
        await post(pair.users, '/v1/auth/refresh', { refreshToken: session.refreshToken }),
        401,
        'REFRESH_TOKEN_INVALID',
      )
    }
    const sessions = await get(pair.users, `/v1/users/${victim.user.id}/sessions`, admin)
    expect(sessions.json()).toEqual({ items: [] })
  })

  it('refuses unknown fields, operators, wrong types and an empty body, and stores nothing', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'admin@example.com')
    const user = await signup(pair.users, 'target@example.com')
    for (const body of [
      {},
      { role: 'admin' },
      { disabled: true, passwordHash: 'x' },
      { disabled: true, _id: 'x' },
      { email: 'other@example.com' },
      { disabled: 'yes' },
      { disabled: { $ne: null } },
      { roles: ['root'] },
      { roles: [] },
      { roles: ['admin', 'admin'] },
      { roles: 'admin' },
      { emailVerified: 1 },
    ]) {
      problem(await patchUser(pair, user.user.id, body, admin), 400, 'VALIDATION_FAILED')
    }
    problem(await patchUser(pair, 'not-an-id', { disabled: true }, admin), 400, 'VALIDATION_FAILED')
    problem(
      await patchUser(pair, '0123456789abcdef01234567', { disabled: true }, admin),
      404,
      'NOT_FOUND',
    )
    const stored = await pair.db.collection('users').findOne({ email: 'target@example.com' })
    expect(stored).toMatchObject({ roles: ['user'], disabled: false, emailVerified: false })
    expect((await get(pair.users, '/v1/users/me', user.accessToken)).statusCode).toBe(200)
  })

  it('sets roles (ending the account’s sessions) and never lets an admin demote or disable themselves', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'admin@example.com')
    const adminId = (await get(pair.users, '/v1/users/me', admin)).json<UserBody>().id
    const user = await signup(pair.users, 'member@example.com')
    problem(await get(pair.users, '/v1/users', user.accessToken), 403, 'FORBIDDEN')

    const promoted = await patchUser(pair, user.user.id, { roles: ['user', 'admin'] }, admin)
    expect(promoted.json<UserBody>().roles).toEqual(['user', 'admin'])
    // A change of roles ends the account's sessions: no token keeps claiming the old roles
    // (other services read `roles` from the token itself). The next sign-in carries the new ones.
    problem(await get(pair.users, '/v1/users/me', user.accessToken), 401, 'UNAUTHORIZED')
    const promotedSession = await login(pair.users, 'member@example.com')
    expect((await get(pair.users, '/v1/users', promotedSession.accessToken)).statusCode).toBe(200)

    problem(await patchUser(pair, adminId, { roles: ['user'] }, admin), 403, 'FORBIDDEN')
    problem(await patchUser(pair, adminId, { disabled: true }, admin), 403, 'FORBIDDEN')
    problem(
      await patchUser(pair, adminId, { emailVerified: true, roles: ['user'] }, admin),
      403,
      'FORBIDDEN',
    )
    expect((await get(pair.users, '/v1/users/me', admin)).json<UserBody>()).toMatchObject({
      roles: ['user', 'admin'],
      disabled: false,
      emailVerified: false,
    })
    // Another admin may demote this one.
    const demoted = await patchUser(pair, adminId, { roles: ['user'] }, promotedSession.accessToken)
    expect(demoted.json<UserBody>().roles).toEqual(['user'])
    problem(await get(pair.users, '/v1/users', admin), 401, 'UNAUTHORIZED')
    const demotedSession = await login(pair.users, 'admin@example.com')
    problem(await get(pair.users, '/v1/users', demotedSession.accessToken), 403, 'FORBIDDEN')
    // Nor may an admin delete their own account through the admin route (no password there).
    problem(
      await send(
        pair.users,
        'DELETE',
        `/v1/users/${promoted.json<UserBody>().id}`,
        undefined,
        promotedSession.accessToken,
      ),
      403,
      'FORBIDDEN',
    )
  })

  it('marks an address verified', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'admin@example.com')
    const user = await signup(pair.users, 'unverified@example.com')
    expect(user.user).toMatchObject({ emailVerified: false })
    const res = await patchUser(pair, user.user.id, { emailVerified: true }, admin)
    expect(res.json<UserBody>()).toMatchObject({ emailVerified: true, disabled: false })
    // It is not a credential change: the user's session lives on.
    const me = await get(pair.users, '/v1/users/me', user.accessToken)
    expect(me.json<UserBody>().emailVerified).toBe(true)
  })

  it('lists and ends every session of a user', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'admin@example.com')
    const first = await signup(pair.users, 'busy@example.com')
    const others = [
      await login(pair.users, 'busy@example.com'),
      await login(pair.users, 'busy@example.com'),
    ]
    const listed = await get(pair.users, `/v1/users/${first.user.id}/sessions`, admin)
    const items = listed.json<{ items: { current: boolean }[] }>().items
    expect(items).toHaveLength(3)
    expect(items.every((s) => !s.current)).toBe(true)

    const ended = await send(
      pair.users,
      'DELETE',
      `/v1/users/${first.user.id}/sessions`,
      undefined,
      admin,
    )
    expect(ended.statusCode).toBe(204)
    for (const session of [first, ...others]) {
      problem(await get(pair.users, '/v1/users/me', session.accessToken), 401, 'UNAUTHORIZED')
      problem(
        await post(pair.users, '/v1/auth/refresh', { refreshToken: session.refreshToken }),
        401,
        'REFRESH_TOKEN_INVALID',
      )
    }
    expect((await get(pair.users, `/v1/users/${first.user.id}/sessions`, admin)).json()).toEqual({
      items: [],
    })
    // The account itself is untouched: its owner signs in again.
    expect(
      (
        await get(
          pair.users,
          '/v1/users/me',
          (await login(pair.users, 'busy@example.com')).accessToken,
        )
      ).statusCode,
    ).toBe(200)
    const unknown = '0123456789abcdef01234567'
    problem(await get(pair.users, `/v1/users/${unknown}/sessions`, admin), 404, 'NOT_FOUND')
    problem(
      await send(pair.users, 'DELETE', `/v1/users/${unknown}/sessions`, undefined, admin),
      404,
      'NOT_FOUND',
    )
  })

  it('logs the caller out everywhere else, keeping the calling session', async () => {
    const pair = await startPair()
    const here = await signup(pair.users, 'traveller@example.com')
    const elsewhere = [
      await login(pair.users, 'traveller@example.com'),
      await login(pair.users, 'traveller@example.com'),
    ]
    const res = await send(
      pair.users,
      'DELETE',
      '/v1/users/me/sessions',
      undefined,
      here.accessToken,
    )
    expect(res.statusCode).toBe(204)
    for (const session of elsewhere) {
      problem(await get(pair.users, '/v1/users/me', session.accessToken), 401, 'UNAUTHORIZED')
      problem(
        await post(pair.users, '/v1/auth/refresh', { refreshToken: session.refreshToken }),
        401,
        'REFRESH_TOKEN_INVALID',
      )
    }
    const left = await get(pair.users, '/v1/users/me/sessions', here.accessToken)
    expect(left.json<{ items: { current: boolean }[] }>().items).toEqual([
      expect.objectContaining({ current: true }),
    ])
    const refreshed = await post(pair.users, '/v1/auth/refresh', {
      refreshToken: here.refreshToken,
    })
    expect(refreshed.statusCode).toBe(200)
  })
})
