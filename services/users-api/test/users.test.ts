import { describe, expect, it } from 'vitest'
import {
  get,
  goodPassword,
  login,
  post,
  problem,
  send,
  signup,
  startPair,
  type SessionBody,
} from './pair-harness.js'

const newPassword = 'a completely different passphrase'

describe('GET and PATCH /v1/users/me', () => {
  it('returns the signed-in user and changes the name only', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'mia@example.com')
    const me = await get(pair.users, '/v1/users/me', s.accessToken)
    expect(me.statusCode).toBe(200)
    expect(me.headers['cache-control']).toBe('no-store')
    expect(me.json()).toEqual(s.user)
    const renamed = await send(
      pair.users,
      'PATCH',
      '/v1/users/me',
      { name: '  Mia M. ' },
      s.accessToken,
    )
    expect(renamed.json()).toMatchObject({ name: 'Mia M.', email: 'mia@example.com' })
    for (const body of [
      { name: 'x', email: 'evil@example.com' },
      { roles: ['admin'] },
      { name: { $set: 'x' } },
      { name: 'x'.repeat(101) },
    ]) {
      problem(
        await send(pair.users, 'PATCH', '/v1/users/me', body, s.accessToken),
        400,
        'VALIDATION_FAILED',
      )
    }
    const stored = await pair.db.collection('users').findOne({ email: 'mia@example.com' })
    expect(stored?.roles).toEqual(['user'])
  })

  it('refuses missing, malformed and foreign-signed tokens with 401', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'ned@example.com')
    const [h, p, sig] = s.accessToken.split('.')
    const cases: Record<string, string>[] = [
      {},
      { authorization: s.accessToken },
      { authorization: `Basic ${s.accessToken}` },
      { authorization: 'Bearer ' },
      { authorization: 'Bearer not.a.jwt' },
      { authorization: `Bearer ${h ?? ''}.${p ?? ''}.${(sig ?? '').slice(0, -4)}AAAA` },
    ]
    for (const headers of cases) {
      const res = await pair.users.inject({ method: 'GET', url: '/v1/users/me', headers })
      problem(res, 401, 'UNAUTHORIZED')
    }
  })
})

describe('POST /v1/auth/logout', () => {
  it('ends the session at once: its access and refresh tokens stop working', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'olga@example.com')
    const other = await login(pair.users, 'olga@example.com')
    const res = await post(pair.users, '/v1/auth/logout', undefined, s.accessToken)
    expect(res.statusCode).toBe(204)
    problem(await get(pair.users, '/v1/users/me', s.accessToken), 401, 'UNAUTHORIZED')
    problem(
      await post(pair.users, '/v1/auth/refresh', { refreshToken: s.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    )
    expect((await get(pair.users, '/v1/users/me', other.accessToken)).statusCode).toBe(200)
  })
})

describe('POST /v1/users/me/password', () => {
  it('changes the password and ends every other session, keeping this one', async () => {
    const pair = await startPair()
    const here = await signup(pair.users, 'pat@example.com')
    const elsewhere = await login(pair.users, 'pat@example.com')
    const res = await post(
      pair.users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword },
      here.accessToken,
    )
    expect(res.statusCode).toBe(204)
    expect((await get(pair.users, '/v1/users/me', here.accessToken)).statusCode).toBe(200)
    problem(await get(pair.users, '/v1/users/me', elsewhere.accessToken), 401, 'UNAUTHORIZED')
    problem(
      await post(pair.users, '/v1/auth/refresh', { refreshToken: elsewhere.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    )
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'pat@example.com',
        password: goodPassword,
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    expect(
      (
        await post(pair.users, '/v1/auth/login', {
          email: 'pat@example.com',
          password: newPassword,
        })
      ).statusCode,
    ).toBe(200)
  })

  it('requires the current password and applies the policy to the new one', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'quinn@example.com')
    problem(
      await post(
        pair.users,
        '/v1/users/me/password',
        { currentPassword: 'wrong current password', newPassword },
        s.accessToken,
      ),
      401,
      'INVALID_CREDENTIALS',
    )
    const weak = problem(
      await post(
        pair.users,
        '/v1/users/me/password',
        { currentPassword: goodPassword, newPassword: 'short' },
        s.accessToken,
      ),
      400,
      'VALIDATION_FAILED',
    )
    expect(weak.errors).toEqual([
      { path: '/newPassword', message: 'must be at least 15 characters' },
    ])
    expect((await get(pair.users, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
  })
})

describe('DELETE /v1/users/me', () => {
  it('requires the password, then deletes the user and every session', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'rae@example.com')
    const other = await login(pair.users, 'rae@example.com')
    problem(
      await send(
        pair.users,
        'DELETE',
        '/v1/users/me',
        { password: 'not my password at all' },
        s.accessToken,
      ),
      401,
      'INVALID_CREDENTIALS',
    )
    problem(
      await send(pair.users, 'DELETE', '/v1/users/me', {}, s.accessToken),
      400,
      'VALIDATION_FAILED',
    )
    const res = await send(
      pair.users,
      'DELETE',
      '/v1/users/me',
      { password: goodPassword },
      s.accessToken,
    )
    expect(res.statusCode).toBe(204)
    for (const token of [s.accessToken, other.accessToken]) {
      problem(await get(pair.users, '/v1/users/me', token), 401, 'UNAUTHORIZED')
    }
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'rae@example.com',
        password: goodPassword,
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    expect(await pair.db.collection('users').countDocuments()).toBe(0)
    expect(await pair.db.collection('sessions').countDocuments()).toBe(0)
    // The address is free again.
    expect(
      (
        await post(pair.users, '/v1/auth/signup', {
          email: 'rae@example.com',
          password: goodPassword,
        })
      ).statusCode,
    ).toBe(201)
  })
})

describe('sessions', () => {
  it('lists the user’s sessions, marks the current one, and revokes another', async () => {
    const pair = await startPair()
    const a = await signup(pair.users, 'sam@example.com')
    const b = await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'user-agent': 'phone/1.0' },
      payload: { email: 'sam@example.com', password: goodPassword },
    })
    const phone = b.json<SessionBody>()
    const list = await get(pair.users, '/v1/users/me/sessions', a.accessToken)
    const { items } = list.json<{ items: { id: string; current: boolean; userAgent: string }[] }>()
    expect(items).toHaveLength(2)
    expect(items.filter((i) => i.current)).toHaveLength(1)
    const phoneSession = items.find((i) => i.userAgent === 'phone/1.0')
    expect(phoneSession?.current).toBe(false)
    expect(JSON.stringify(items)).not.toMatch(/refresh|Hash|ip/)
    const del = await send(
      pair.users,
      'DELETE',
      `/v1/users/me/sessions/${phoneSession?.id ?? ''}`,
      undefined,
      a.accessToken,
    )
    expect(del.statusCode).toBe(204)
    problem(await get(pair.users, '/v1/users/me', phone.accessToken), 401, 'UNAUTHORIZED')
    expect((await get(pair.users, '/v1/users/me', a.accessToken)).statusCode).toBe(200)
  })

  it('answers 404 for a session of another user, and leaves it alone', async () => {
    const pair = await startPair()
    const mine = await signup(pair.users, 'tess@example.com')
    const theirs = await signup(pair.users, 'uma@example.com')
    const theirList = (await get(pair.users, '/v1/users/me/sessions', theirs.accessToken)).json<{
      items: { id: string }[]
    }>()
    const theirId = theirList.items[0]?.id ?? ''
    problem(
      await send(
        pair.users,
        'DELETE',
        `/v1/users/me/sessions/${theirId}`,
        undefined,
        mine.accessToken,
      ),
      404,
      'NOT_FOUND',
    )
    expect((await get(pair.users, '/v1/users/me', theirs.accessToken)).statusCode).toBe(200)
    problem(
      await send(
        pair.users,
        'DELETE',
        '/v1/users/me/sessions/not-a-session',
        undefined,
        mine.accessToken,
      ),
      400,
      'VALIDATION_FAILED',
    )
  })
})
