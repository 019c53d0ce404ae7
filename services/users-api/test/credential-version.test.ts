import { describe, expect, it } from 'vitest'
import {
  get,
  goodPassword,
  login,
  post,
  send,
  signup,
  startPair,
  type SessionBody,
} from './pair-harness.js'

const newPassword = 'maple quartz ferry lantern 1789'

describe('credential version', () => {
  it('leaves no racing login or refresh alive after a password change; the caller stays', async () => {
    const pair = await startPair({
      // Thirty logins from one client: the lockout is not what this test is about.
      usersEnv: { LOCKOUT_THRESHOLD: '50', LOCKOUT_HARD_LIMIT: '60' },
    })
    const owner = await signup(pair.users, 'race@example.com')
    const others = await Promise.all(
      Array.from({ length: 5 }, () => login(pair.users, 'race@example.com')),
    )
    const logins = Array.from({ length: 30 }, () =>
      post(pair.users, '/v1/auth/login', { email: 'race@example.com', password: goodPassword }),
    )
    const refreshes = others.map((s) =>
      post(pair.users, '/v1/auth/refresh', { refreshToken: s.refreshToken }),
    )
    const change = post(
      pair.users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword },
      owner.accessToken,
    )
    const answers = await Promise.all([...logins, ...refreshes])
    expect((await change).statusCode).toBe(204)

    const issued = answers.filter((r) => r.statusCode === 200).map((r) => r.json<SessionBody>())
    for (const session of [...issued, ...others]) {
      expect((await get(pair.users, '/v1/users/me', session.accessToken)).statusCode).toBe(401)
      const refreshed = await post(pair.users, '/v1/auth/refresh', {
        refreshToken: session.refreshToken,
      })
      expect(refreshed.statusCode).toBe(401)
    }
    // The caller's own session survives its own change, and refreshes.
    expect((await get(pair.users, '/v1/users/me', owner.accessToken)).statusCode).toBe(200)
    const next = await post(pair.users, '/v1/auth/refresh', { refreshToken: owner.refreshToken })
    expect(next.statusCode).toBe(200)
    expect(
      (await get(pair.users, '/v1/users/me', next.json<SessionBody>().accessToken)).statusCode,
    ).toBe(200)
    // And the new password works.
    await login(pair.users, 'race@example.com', newPassword)
  })

  it('kills a session started with a credential version that has since moved on', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, 'stale@example.com')
    // What a login that read the user just before a change would have stored.
    await pair.db
      .collection('users')
      .updateOne({ email: 'stale@example.com' }, { $inc: { credentialVersion: 1 } })
    expect((await get(pair.users, '/v1/users/me', session.accessToken)).statusCode).toBe(401)
    expect(
      (await post(pair.users, '/v1/auth/refresh', { refreshToken: session.refreshToken }))
        .statusCode,
    ).toBe(401)
  })

  it('keeps the caller of a change whose session was stored before versions were', async () => {
    const pair = await startPair()
    const caller = await signup(pair.users, 'legacy@example.com')
    const other = await login(pair.users, 'legacy@example.com')
    await pair.db.collection('sessions').updateMany({}, { $unset: { credentialVersion: '' } })
    // Log out everywhere else: the other session ends, the caller's moves to the new version.
    const res = await send(
      pair.users,
      'DELETE',
      '/v1/users/me/sessions',
      undefined,
      caller.accessToken,
    )
    expect(res.statusCode).toBe(204)
    expect((await get(pair.users, '/v1/users/me', other.accessToken)).statusCode).toBe(401)
    expect((await get(pair.users, '/v1/users/me', caller.accessToken)).statusCode).toBe(200)
    const next = await post(pair.users, '/v1/auth/refresh', { refreshToken: caller.refreshToken })
    expect(next.statusCode).toBe(200)
  })
})
