import { describe, expect, it } from 'vitest'
import {
  get,
  post,
  problem,
  signup,
  startPair,
  type Pair,
  type SessionBody,
} from './pair-harness.js'

const day = 24 * 3_600_000
const refresh = (p: Pair, refreshToken: string) =>
  post(p.users, '/v1/auth/refresh', { refreshToken })

/** users-api's clock, moved by the test. */
function testClock() {
  const clock = { ms: Date.now(), now: () => new Date(clock.ms) }
  return clock
}

describe('SESSION_MAX_LIFETIME', () => {
  it('ends a session 90 days after its login, however often it is refreshed', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.now })
    let session = await signup(pair.users, 'long@example.com')
    for (let i = 0; i < 4; i++) {
      clock.ms += 20 * day
      const res = await refresh(pair, session.refreshToken)
      expect(res.statusCode).toBe(200)
      session = res.json<SessionBody>()
    }
    // 80 days in: still live. At 90 days, dead: refresh and access token alike.
    expect((await get(pair.users, '/v1/users/me', session.accessToken)).statusCode).toBe(200)
    clock.ms += 10 * day
    problem(await get(pair.users, '/v1/users/me', session.accessToken), 401, 'UNAUTHORIZED')
    problem(await refresh(pair, session.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
  })

  it('is configurable, and the idle expiry still applies within it', async () => {
    const clock = testClock()
    const pair = await startPair({
      now: clock.now,
      usersEnv: { SESSION_MAX_LIFETIME: '3h', REFRESH_TOKEN_TTL: '1h' },
    })
    let session = await signup(pair.users, 'short@example.com')
    clock.ms += 59 * 60_000
    session = (await refresh(pair, session.refreshToken)).json<SessionBody>()
    clock.ms += 59 * 60_000
    session = (await refresh(pair, session.refreshToken)).json<SessionBody>()
    clock.ms += 59 * 60_000
    session = (await refresh(pair, session.refreshToken)).json<SessionBody>()
    clock.ms += 5 * 60_000
    problem(await refresh(pair, session.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
  })
})

describe('REFRESH_REUSE_GRACE', () => {
  it('is off by default: a retried token is a replay', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'nograce@example.com')
    expect((await refresh(pair, first.refreshToken)).statusCode).toBe(200)
    problem(await refresh(pair, first.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
  })

  it('answers a retry within the grace with the same pair, and a later one as a replay', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.now, usersEnv: { REFRESH_REUSE_GRACE: '10s' } })
    const first = await signup(pair.users, 'grace@example.com')
    const answer = (await refresh(pair, first.refreshToken)).json<SessionBody>()
    clock.ms += 4000
    const retried = await refresh(pair, first.refreshToken)
    expect(retried.statusCode).toBe(200)
    const again = retried.json<SessionBody>()
    expect(again.refreshToken).toBe(answer.refreshToken)
    expect(again.accessToken).toBe(answer.accessToken)
    expect(again.user).toEqual(answer.user)
    expect(again.expiresIn).toBeLessThanOrEqual(answer.expiresIn - 4)
    // The rotated pair is stored sealed, never in clear.
    const stored = JSON.stringify(await pair.db.collection('sessions').find().toArray())
    expect(stored).not.toContain(answer.refreshToken)
    expect(stored).not.toContain(answer.accessToken)
    // After the grace the same token is a replay: the session is revoked.
    clock.ms += 7000
    problem(await refresh(pair, first.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
    problem(await refresh(pair, answer.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
    problem(await get(pair.users, '/v1/users/me', answer.accessToken), 401, 'UNAUTHORIZED')
  })

  it('ends concurrent refreshes of one token on one chain', async () => {
    const pair = await startPair({ usersEnv: { REFRESH_REUSE_GRACE: '10s' } })
    const first = await signup(pair.users, 'chain@example.com')
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => refresh(pair, first.refreshToken)),
    )
    for (const res of answers) expect(res.statusCode).toBe(200)
    const tokens = new Set(answers.map((r) => r.json<SessionBody>().refreshToken))
    expect(tokens.size).toBe(1)
    const [next] = [...tokens]
    expect((await refresh(pair, next ?? '')).statusCode).toBe(200)
  })

  it('only ever returns the pair of the last rotation: an older token is a replay', async () => {
    const pair = await startPair({ usersEnv: { REFRESH_REUSE_GRACE: '10s' } })
    const first = await signup(pair.users, 'older@example.com')
    const second = (await refresh(pair, first.refreshToken)).json<SessionBody>()
    expect((await refresh(pair, second.refreshToken)).statusCode).toBe(200)
    problem(await refresh(pair, first.refreshToken), 401, 'REFRESH_TOKEN_REUSED')
  })

  it('does not outlive the absolute lifetime', async () => {
    const clock = testClock()
    const pair = await startPair({
      now: clock.now,
      usersEnv: { REFRESH_REUSE_GRACE: '60s', SESSION_MAX_LIFETIME: '1h' },
    })
    const first = await signup(pair.users, 'end@example.com')
    clock.ms += 60 * 60_000 - 10_000
    expect((await refresh(pair, first.refreshToken)).statusCode).toBe(200)
    clock.ms += 20_000
    problem(await refresh(pair, first.refreshToken), 401, 'REFRESH_TOKEN_INVALID')
  })
})
