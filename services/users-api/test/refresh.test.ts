import { describe, expect, inject, it } from 'vitest'
import { maxRotationsPerSession } from '../src/domain/sessions.js'
import { MongoTap } from './mongo-tap.js'
import {
  get,
  post,
  problem,
  signup,
  startPair,
  type Pair,
  type SessionBody,
} from './pair-harness.js'

const refresh = (p: Pair, refreshToken: string) =>
  post(p.users, '/v1/auth/refresh', { refreshToken })

describe('POST /v1/auth/refresh', () => {
  it('rotates the refresh token and issues a new access token for the same session', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'hal@example.com')
    const res = await refresh(pair, first.refreshToken)
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const next = res.json<SessionBody>()
    expect(next.refreshToken).not.toBe(first.refreshToken)
    expect(next.accessToken).not.toBe(first.accessToken)
    expect(next.user).toEqual(first.user)
    expect(await pair.db.collection('sessions').countDocuments()).toBe(1)
    expect((await get(pair.users, '/v1/users/me', next.accessToken)).statusCode).toBe(200)
    // The next rotation works from the new token.
    expect((await refresh(pair, next.refreshToken)).statusCode).toBe(200)
  })

  it('treats a replayed refresh token as theft: 401 REFRESH_TOKEN_REUSED and the session is gone', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'ivy@example.com')
    const next = (await refresh(pair, first.refreshToken)).json<SessionBody>()
    problem(await refresh(pair, first.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
    // Everything of that session is dead now, the attacker's and the owner's alike.
    problem(await refresh(pair, next.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    problem(await get(pair.users, '/v1/users/me', next.accessToken), 401, 'UNAUTHORIZED')
    expect(await pair.db.collection('sessions').countDocuments()).toBe(0)
  })

  // Only 50 retired hashes used to be kept: an older token was answered INVALID and the
  // session lived on.
  it('revokes the session for a token rotated 51 rotations ago; a random secret still does not', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'old-replay@example.com')
    let current = first.refreshToken
    for (let i = 0; i < 51; i++) {
      current = (await refresh(pair, current)).json<SessionBody>().refreshToken
    }
    const [sessionId] = first.refreshToken.split('.')
    const forged = `${sessionId ?? ''}.${'C'.repeat(43)}`
    problem(await refresh(pair, forged), 401, 'REFRESH_TOKEN_INVALID')
    current = (await refresh(pair, current)).json<SessionBody>().refreshToken
    problem(await refresh(pair, first.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
    problem(await refresh(pair, current), 401, 'REFRESH_TOKEN_INVALID')
    expect(await pair.db.collection('sessions').countDocuments()).toBe(0)
  })

  it('ends a session at its rotation cap rather than forget a retired token', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'busy@example.com')
    await pair.db
      .collection('sessions')
      .updateOne({}, { $set: { rotations: maxRotationsPerSession - 1 } })
    const last = (await refresh(pair, first.refreshToken)).json<SessionBody>()
    problem(await refresh(pair, last.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    expect(await pair.db.collection('sessions').countDocuments()).toBe(0)
  })

  it('lets exactly one of two concurrent refreshes with one token win', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'jack@example.com')
    const p = pair
    const results = await Promise.all(
      Array.from({ length: 5 }, () => refresh(p, first.refreshToken)),
    )
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes.filter((c) => c === 200)).toHaveLength(1)
    for (const r of results.filter((x) => x.statusCode !== 200)) {
      expect(r.statusCode).toBe(401)
      expect(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_INVALID']).toContain(
        r.json<{ code: string }>().code,
      )
    }
  })

  it.each([
    ['an unknown token', `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.${'A'.repeat(43)}`],
    ['garbage', 'not-a-refresh-token'],
    ['an access token', 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'],
  ])('answers REFRESH_TOKEN_INVALID for %s', async (_name, token) => {
    const pair = await startPair()
    problem(await refresh(pair, token), 401, 'REFRESH_TOKEN_INVALID')
  })

  it('does not let a guessed secret for a known session revoke it', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'kim@example.com')
    const [sessionId] = first.refreshToken.split('.')
    problem(
      await refresh(pair, `${sessionId ?? ''}.${'B'.repeat(43)}`),
      401,
      'REFRESH_TOKEN_INVALID',
    )
    expect((await refresh(pair, first.refreshToken)).statusCode).toBe(200)
  })

  it('reads a session once for a guessed secret, as for an unknown session: the answer tells nothing of it', async () => {
    const tap = new MongoTap()
    const pair = await startPair({ mongoUri: await tap.start(inject('mongoUri')) })
    try {
      const first = await signup(pair.users, 'kit@example.com')
      const [sessionId] = first.refreshToken.split('.')
      const secret = 'C'.repeat(43)
      const commands = async (token: string) => {
        tap.commands.length = 0
        problem(await refresh(pair, token), 401, 'REFRESH_TOKEN_INVALID')
        return tap.commands.filter((c) => / (sessions|users)$/.test(c))
      }
      const unknown = await commands(`${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.${secret}`)
      expect(unknown).toEqual(['find sessions'])
      expect(await commands(`${sessionId ?? ''}.${secret}`)).toEqual(unknown)

      // A refresh this replica has no cached user for: the session, its user, the swap.
      tap.commands.length = 0
      expect((await refresh(pair, first.refreshToken)).statusCode).toBe(200)
      expect(tap.commands.filter((c) => / (sessions|users)$/.test(c))).toEqual([
        'find sessions',
        'find users',
        'update sessions',
      ])
    } finally {
      await pair.close()
      await tap.stop()
    }
  })

  it('expires a session that was not refreshed within REFRESH_TOKEN_TTL', async () => {
    let now = Date.now()
    const pair = await startPair({
      now: () => new Date(now),
      usersEnv: { REFRESH_TOKEN_TTL: '1h' },
    })
    const first = await signup(pair.users, 'lee@example.com')
    now += 59 * 60_000
    const next = (await refresh(pair, first.refreshToken)).json<SessionBody>()
    // Each rotation moves the expiry on.
    now += 59 * 60_000
    const third = (await refresh(pair, next.refreshToken)).json<SessionBody>()
    now += 61 * 60_000
    problem(await refresh(pair, third.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
  })

  it('rejects a body that is not exactly { refreshToken }', async () => {
    const pair = await startPair()
    for (const body of [
      {},
      { refreshToken: { $ne: null } },
      { refreshToken: 'x', extra: 1 },
      { refreshToken: '' },
    ]) {
      problem(await post(pair.users, '/v1/auth/refresh', body), 400, 'VALIDATION_FAILED')
    }
  })
})
