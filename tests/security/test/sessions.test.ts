import { describe, expect, inject, it } from 'vitest'
import { usersApi, type Account, type Session } from '../src/api.js'
import { claimsOf, forger } from '../src/forge.js'
import { expectProblem } from '../src/http.js'
import { newPassword } from '../src/pair.js'

// Session lifecycle (RFC 9700 §4.14 refresh-token rotation and replay detection; ASVS V3):
// every way a session ends takes effect on the very next request, for access and refresh
// tokens alike.

const pair = inject('pair')
const api = usersApi(pair)
const forge = forger(pair.privateJwks, pair.issuer, pair.audience)

async function expectLive(session: Session): Promise<void> {
  const res = await api.get('/v1/users/me', session.accessToken)
  expect(res.status, res.text).toBe(200)
}

async function expectDead(session: Session, refreshCode = 'REFRESH_TOKEN_INVALID'): Promise<void> {
  expectProblem(await api.get('/v1/users/me', session.accessToken), 401, 'UNAUTHORIZED')
  expectProblem(
    await api.post('/v1/auth/refresh', { refreshToken: session.refreshToken }),
    401,
    refreshCode,
  )
}

function sidOf(session: Session): string {
  return String(claimsOf(session.accessToken).sid)
}

describe('refresh tokens', () => {
  it('are opaque, carry 256 random bits and are never reused across sessions', async () => {
    const account = await api.signup('entropy')
    const sessions = [account.session]
    for (let i = 0; i < 5; i++) sessions.push(await api.login(account.email, account.password))
    const secrets = sessions.map((s) => {
      const match = /^[0-9a-f-]{36}\.([A-Za-z0-9_-]{43})$/.exec(s.refreshToken)
      expect(match, s.refreshToken).not.toBeNull()
      expect(Buffer.from(match?.[1] ?? '', 'base64url')).toHaveLength(32)
      return match?.[1]
    })
    expect(new Set(secrets).size).toBe(sessions.length)
    expect(new Set(sessions.map(sidOf)).size).toBe(sessions.length)
  })

  it('rotate on every use; the replay of a rotated one revokes the whole session', async () => {
    const account = await api.signup('rotate')
    const first = account.session
    const second = await api.refresh(first.refreshToken)
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(sidOf(second)).toBe(sidOf(first))
    const third = await api.refresh(second.refreshToken)
    await expectLive(third)

    // An attacker replays the first token: the thief and the victim both lose the session.
    expectProblem(
      await api.post('/v1/auth/refresh', { refreshToken: first.refreshToken }),
      401,
      'REFRESH_TOKEN_REUSED',
    )
    await expectDead(third)
    // Other sessions of the account are not touched.
    await expectLive(await api.login(account.email, account.password))
  })

  it('let exactly one of many concurrent refreshes with one token win', async () => {
    const account = await api.signup('race')
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.post('/v1/auth/refresh', { refreshToken: account.session.refreshToken }),
      ),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    for (const loser of results.filter((r) => r.status !== 200)) {
      expect(loser.status).toBe(401)
      expect(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_INVALID']).toContain(
        loser.json<{ code: string }>().code,
      )
    }
  })

  it('cannot be forged from a known session id, nor spliced across sessions', async () => {
    const a = await api.signup('splice-a')
    const b = await api.signup('splice-b')
    const [aSid = '', aSecret = ''] = a.session.refreshToken.split('.')
    const [bSid = ''] = b.session.refreshToken.split('.')
    const guesses = [
      `${aSid}.${'A'.repeat(43)}`,
      `${bSid}.${aSecret}`,
      `${aSid}.${aSecret.slice(0, 42)}B`,
      `${aSid.toUpperCase()}.${aSecret}`,
      `${aSid}.${aSecret}=`,
      ` ${a.session.refreshToken}`,
      a.session.accessToken.slice(0, 256),
    ]
    for (const refreshToken of guesses) {
      const res = await api.post('/v1/auth/refresh', { refreshToken })
      expect(res.status, refreshToken).toBe(401)
      expect(res.json<{ code: string }>().code).toBe('REFRESH_TOKEN_INVALID')
    }
    // Wrong guesses neither revoke nor rotate the sessions they name.
    await expectLive(await api.refresh(a.session.refreshToken))
    await expectLive(await api.refresh(b.session.refreshToken))
  })

  it('refuse operator objects, arrays and oversized values with 400', async () => {
    const account = await api.signup('refresh-types')
    for (const refreshToken of [
      { $ne: null },
      { $gt: '' },
      [account.session.refreshToken],
      null,
      42,
      '',
      'x'.repeat(257),
    ]) {
      expectProblem(await api.post('/v1/auth/refresh', { refreshToken }), 400, 'VALIDATION_FAILED')
    }
    await expectLive(await api.refresh(account.session.refreshToken))
  })
})

describe('logout', () => {
  it('ends the presented session at once and only that one', async () => {
    const account = await api.signup('logout')
    const other = await api.login(account.email, account.password)
    const res = await api.post('/v1/auth/logout', undefined, account.session.accessToken)
    expect(res.status, res.text).toBe(204)
    await expectDead(account.session)
    await expectLive(other)
    // A second logout with the dead token is refused, not silently accepted.
    expectProblem(
      await api.post('/v1/auth/logout', undefined, account.session.accessToken),
      401,
      'UNAUTHORIZED',
    )
  })

  it('also kills tokens minted for that session by earlier refreshes', async () => {
    const account = await api.signup('logout-refreshed')
    const refreshed = await api.refresh(account.session.refreshToken)
    expect((await api.post('/v1/auth/logout', undefined, refreshed.accessToken)).status).toBe(204)
    // The access token issued before the refresh belongs to the same session.
    await expectDead(account.session, 'REFRESH_TOKEN_INVALID')
    await expectDead(refreshed)
  })

  it('revoking one of my sessions by id kills its tokens', async () => {
    const account = await api.signup('revoke-own')
    const laptop = await api.login(account.email, account.password)
    const res = await api.delete(
      `/v1/users/me/sessions/${sidOf(laptop)}`,
      undefined,
      account.session.accessToken,
    )
    expect(res.status, res.text).toBe(204)
    await expectDead(laptop)
    await expectLive(account.session)
  })
})

describe('password change', () => {
  it('ends every other session at once, keeps this one, and retires the old password', async () => {
    const account = await api.signup('chpw')
    const others = [
      await api.login(account.email, account.password),
      await api.login(account.email, account.password),
    ]
    const rotatedAway = await api.refresh(others[1]?.refreshToken ?? '')
    const newPass = newPassword('chpw-new')
    const res = await api.post(
      '/v1/users/me/password',
      { currentPassword: account.password, newPassword: newPass },
      account.session.accessToken,
    )
    expect(res.status, res.text).toBe(204)
    for (const session of [others[0], rotatedAway]) if (session) await expectDead(session)
    await expectLive(account.session)
    expectProblem(
      await api.post('/v1/auth/login', { email: account.email, password: account.password }),
      401,
      'INVALID_CREDENTIALS',
    )
    await expectLive(await api.login(account.email, newPass))
  })

  it('requires the current password and changes nothing without it', async () => {
    const account = await api.signup('chpw-wrong')
    const other = await api.login(account.email, account.password)
    const res = await api.post(
      '/v1/users/me/password',
      { currentPassword: `${account.password}x`, newPassword: newPassword('never') },
      account.session.accessToken,
    )
    expect(res.status).toBe(401)
    expect(res.json<{ code: string }>().code).toBe('INVALID_CREDENTIALS')
    await expectLive(other)
    await expectLive(await api.login(account.email, account.password))
  })
})

describe('deletion', () => {
  async function deleted(
    how: 'self' | 'admin',
  ): Promise<{ account: Account; sessions: Session[] }> {
    const account = await api.signup(`delete-${how}`)
    const sessions = [account.session, await api.login(account.email, account.password)]
    const res =
      how === 'self'
        ? await api.delete(
            '/v1/users/me',
            { password: account.password },
            account.session.accessToken,
          )
        : await api.delete(
            `/v1/users/${account.session.user.id}`,
            undefined,
            await api.adminToken(),
          )
    expect(res.status, res.text).toBe(204)
    return { account, sessions }
  }

  it.each(['self', 'admin'] as const)(
    'by %s: every token of the user dies at once and the password no longer logs in',
    async (how) => {
      const { account, sessions } = await deleted(how)
      for (const session of sessions) await expectDead(session)
      const login = await api.post('/v1/auth/login', {
        email: account.email,
        password: account.password,
      })
      expectProblem(login, 401, 'INVALID_CREDENTIALS')
    },
  )

  it('a forged token for a deleted user’s id and session is refused', async () => {
    const { account, sessions } = await deleted('self')
    for (const session of sessions) {
      expectProblem(
        await api.get(
          '/v1/users/me',
          forge.sign(forge.claimsFor(account.session.user.id, sidOf(session))),
        ),
        401,
        'UNAUTHORIZED',
      )
    }
  })

  it('a new account with the same email inherits nothing from the deleted one', async () => {
    const { account, sessions } = await deleted('admin')
    const fresh = await api.post('/v1/auth/signup', {
      email: account.email,
      password: newPassword('reborn'),
    })
    expect(fresh.status, fresh.text).toBe(201)
    const reborn = fresh.json<Session>()
    expect(reborn.user.id).not.toBe(account.session.user.id)
    for (const session of sessions) await expectDead(session)
    const listed = await api.get('/v1/users/me/sessions', reborn.accessToken)
    expect(listed.json<{ items: unknown[] }>().items).toHaveLength(1)
  })

  it('self-delete requires the password and leaves the account intact without it', async () => {
    const account = await api.signup('delete-wrong')
    const res = await api.delete(
      '/v1/users/me',
      { password: `${account.password}!` },
      account.session.accessToken,
    )
    expectProblem(res, 401, 'INVALID_CREDENTIALS')
    await expectLive(account.session)
    for (const body of [undefined, {}, { password: { $ne: null } }, { password: '' }]) {
      const bad = await api.delete('/v1/users/me', body, account.session.accessToken)
      expect(bad.status, JSON.stringify(body)).toBe(400)
    }
    await expectLive(account.session)
  })
})
