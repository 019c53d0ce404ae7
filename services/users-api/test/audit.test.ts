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

interface AuditEvent {
  id: string
  at: string
  event: string
  outcome: 'success' | 'failure'
  userId: string | null
  actorId: string | null
  ip: string
  userAgent: string
  requestId: string
}
interface AuditPage {
  items: AuditEvent[]
  nextCursor: string | null
}

/** Every event the trail holds, newest first, walked page by page through the admin route. */
async function allEvents(p: Pair, admin: string, query = '', limit = 100): Promise<AuditEvent[]> {
  const events: AuditEvent[] = []
  let cursor: string | null = null
  do {
    const url: string = `/v1/audit?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`
    const res = await get(p.users, url, admin)
    expect(res.statusCode).toBe(200)
    const page = res.json<AuditPage>()
    events.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return events
}

const withRequestId = (requestId: string) => ({
  'x-request-id': requestId,
  'user-agent': 'audit-test/1.0',
})

function idOf(p: Pair, token: string): Promise<string> {
  return get(p.users, '/v1/users/me', token).then((res) => res.json<{ id: string }>().id)
}

describe('audit trail', () => {
  it('records every event of the existing flows, with actor, target, address, agent and request id', async () => {
    const pair = await startPair()
    const { users } = pair
    const admin = await makeAdmin(pair, 'root@example.com')
    const adminId = await idOf(pair, admin)

    const signupRes = await users.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: 'ann@example.com', password: goodPassword },
      headers: withRequestId('req-signup'),
    })
    const ann = signupRes.json<{
      user: { id: string }
      accessToken: string
      refreshToken: string
    }>()
    const annId = ann.user.id
    const loggedIn = await login(users, 'ann@example.com')
    problem(
      await post(users, '/v1/auth/login', {
        email: 'ann@example.com',
        password: 'wrong '.repeat(4),
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    problem(
      await post(users, '/v1/auth/login', { email: 'ghost@example.com', password: goodPassword }),
      401,
      'INVALID_CREDENTIALS',
    )
    // A rotated token presented again.
    const rotated = await post(users, '/v1/auth/refresh', { refreshToken: loggedIn.refreshToken })
    expect(rotated.statusCode).toBe(200)
    problem(
      await post(users, '/v1/auth/refresh', { refreshToken: loggedIn.refreshToken }),
      401,
      'REFRESH_TOKEN_REUSED',
    )
    const toLogOut = await login(users, 'ann@example.com')
    expect((await post(users, '/v1/auth/logout', undefined, toLogOut.accessToken)).statusCode).toBe(
      204,
    )
    const toRevoke = await login(users, 'ann@example.com')
    const listed = await get(users, '/v1/users/me/sessions', toRevoke.accessToken)
    const other = listed
      .json<{ items: { id: string; current: boolean }[] }>()
      .items.find((s) => s.current)?.id
    expect(
      (await send(users, 'DELETE', `/v1/users/me/sessions/${other}`, undefined, ann.accessToken))
        .statusCode,
    ).toBe(204)
    await login(users, 'ann@example.com')
    expect(
      (await send(users, 'DELETE', '/v1/users/me/sessions', undefined, ann.accessToken)).statusCode,
    ).toBe(204)
    const newPassword = 'amber walrus quietly juggles 9'
    problem(
      await post(
        users,
        '/v1/users/me/password',
        { currentPassword: 'wrong '.repeat(4), newPassword },
        ann.accessToken,
      ),
      401,
      'INVALID_CREDENTIALS',
    )
    expect(
      (
        await post(
          users,
          '/v1/users/me/password',
          { currentPassword: goodPassword, newPassword },
          ann.accessToken,
        )
      ).statusCode,
    ).toBe(204)
    expect(
      (await send(users, 'PATCH', `/v1/users/${annId}`, { emailVerified: true }, admin)).statusCode,
    ).toBe(200)
    expect(
      (await send(users, 'DELETE', `/v1/users/${annId}/sessions`, undefined, admin)).statusCode,
    ).toBe(204)
    const annLate = await login(users, 'ann@example.com', newPassword)
    // The lockout: wrong passwords until one is refused (a known and an unknown account).
    for (const email of ['ann@example.com', 'ghost@example.com']) {
      let res
      do res = await post(users, '/v1/auth/login', { email, password: 'wrong '.repeat(4) })
      while (res.statusCode === 401)
      problem(res, 429, 'RATE_LIMITED')
    }
    const bob = await signup(users, 'bob@example.com')
    expect(
      (await send(users, 'DELETE', '/v1/users/me', { password: goodPassword }, bob.accessToken))
        .statusCode,
    ).toBe(204)
    const carl = await signup(users, 'carl@example.com')
    expect(
      (await send(users, 'DELETE', `/v1/users/${carl.user.id}`, undefined, admin)).statusCode,
    ).toBe(204)

    const events = await allEvents(pair, admin)
    const ids = events.map((e) => e.id)
    expect(ids).toEqual([...ids].sort().reverse())
    const of = (event: string, userId: string | null, outcome = 'success') =>
      events.filter((e) => e.event === event && e.userId === userId && e.outcome === outcome)

    expect(of('signup', annId)).toEqual([
      expect.objectContaining({
        actorId: annId,
        ip: '127.0.0.1',
        userAgent: 'audit-test/1.0',
        requestId: 'req-signup',
      }),
    ])
    expect(of('login', annId)).toHaveLength(5)
    expect(of('login', annId, 'failure')).toHaveLength(6)
    // An unknown address: no user, no actor; the address itself is never recorded.
    // Five consecutive failures lock an account: ann's success in between reset her count.
    expect(of('login', null, 'failure')).toHaveLength(5)
    expect(of('login', null, 'failure')[0]).toMatchObject({ actorId: null })
    expect(of('login.locked', annId, 'failure')).toHaveLength(1)
    expect(of('login.locked', null, 'failure')).toHaveLength(1)
    expect(of('refresh.reuse', annId, 'failure')).toHaveLength(1)
    expect(of('logout', annId)).toHaveLength(1)
    expect(of('session.revoke', annId)).toHaveLength(2)
    expect(of('password.change', annId)).toHaveLength(1)
    expect(of('password.change', annId, 'failure')).toHaveLength(1)
    expect(of('admin.update', annId)).toEqual([expect.objectContaining({ actorId: adminId })])
    expect(of('admin.sessions.revoke', annId)).toEqual([
      expect.objectContaining({ actorId: adminId }),
    ])
    expect(of('account.delete', bob.user.id)).toEqual([
      expect.objectContaining({ actorId: bob.user.id }),
    ])
    expect(of('admin.delete', carl.user.id)).toEqual([
      expect.objectContaining({ actorId: adminId }),
    ])
    for (const event of events) {
      expect(event.ip).toBe('127.0.0.1')
      expect(event.requestId).toMatch(/^[\w.:-]{1,128}$/)
      expect(event.at).toMatch(/^\d{4}-\d\d-\d\dT/)
    }
    // One JSON log line per event, naming it.
    const logged = pair
      .logs()
      .split('\n')
      .filter((line) => line.includes('"audit event"'))
    expect(logged).toHaveLength(events.length)

    // The owner sees their own events (admin actions on them included), newest first.
    const own = await get(users, '/v1/users/me/activity?limit=100', annLate.accessToken)
    const mine = own.json<AuditPage>().items
    expect(mine.every((e) => e.userId === annId)).toBe(true)
    expect(mine[0]).toMatchObject({ event: 'login.locked', outcome: 'failure' })
    expect(mine.map((e) => e.event)).toContain('admin.sessions.revoke')
    expect(mine).toEqual(events.filter((e) => e.userId === annId))
  })

  it('filters by user and by event, and refuses bad filters', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'root@example.com')
    const a = await signup(pair.users, 'a@example.com')
    await signup(pair.users, 'b@example.com')
    await login(pair.users, 'a@example.com')
    const signups = await allEvents(pair, admin, '&event=signup')
    expect(signups.map((e) => e.event)).toEqual(['signup', 'signup', 'signup'])
    const ofA = await allEvents(pair, admin, `&userId=${a.user.id}`)
    expect(ofA.map((e) => e.event)).toEqual(['login', 'signup'])
    expect(await allEvents(pair, admin, `&userId=${a.user.id}&event=login`)).toHaveLength(1)
    for (const query of [
      '?event=nonsense',
      '?event[$ne]=x',
      '?userId=zzz',
      '?userId[$gt]=',
      '?limit=0',
      '?limit=101',
      '?cursor=abc',
      '?extra=1',
    ]) {
      problem(await get(pair.users, `/v1/audit${query}`, admin), 400, 'VALIDATION_FAILED')
    }
    problem(
      await get(pair.users, '/v1/users/me/activity?userId=' + a.user.id, a.accessToken),
      400,
      'VALIDATION_FAILED',
    )
  })

  it('pages newest first without repeats or gaps while events are being written', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'root@example.com')
    const fail = (i: number) =>
      post(pair.users, '/v1/auth/login', {
        email: `nobody${i}@example.com`,
        password: goodPassword,
      })
    await Promise.all(Array.from({ length: 20 }, (_, i) => fail(i)))
    const before = (
      await pair.db
        .collection('audit_events')
        .find({}, { projection: { _id: 1 } })
        .toArray()
    ).map((doc) => String(doc._id))

    const seen: string[] = []
    let cursor: string | null = null
    let n = 100
    do {
      // Each page is read while more events are written.
      const writes = Promise.all([fail(n++), fail(n++), fail(n++)])
      const url: string = `/v1/audit?limit=4${cursor ? `&cursor=${cursor}` : ''}`
      const [res] = await Promise.all([get(pair.users, url, admin), writes])
      const page = res.json<AuditPage>()
      expect(page.items.length).toBeLessThanOrEqual(4)
      seen.push(...page.items.map((e) => e.id))
      cursor = page.nextCursor
    } while (cursor)

    expect(new Set(seen).size).toBe(seen.length)
    expect(seen).toEqual([...seen].sort().reverse())
    for (const id of before) expect(seen).toContain(id)
  })

  it('keeps events AUDIT_RETENTION under a TTL index', async () => {
    const pair = await startPair({ usersEnv: { AUDIT_RETENTION: '2d' } })
    await signup(pair.users, 'kept@example.com')
    const indexes = await pair.db.collection('audit_events').indexes()
    expect(indexes).toContainEqual(
      expect.objectContaining({ key: { expiresAt: 1 }, expireAfterSeconds: 0 }),
    )
    const [event] = await pair.db.collection('audit_events').find({}).toArray()
    expect(event).toBeDefined()
    const { at, expiresAt } = event as unknown as { at: Date; expiresAt: Date }
    expect(expiresAt.getTime() - at.getTime()).toBe(2 * 24 * 3_600_000)
  })

  it('stores and logs no password, hash or token', async () => {
    const pair = await startPair()
    const { users } = pair
    const secrets: string[] = [goodPassword]
    const first = await signup(users, 'secret@example.com')
    const second = await login(users, 'secret@example.com')
    const wrong = 'a wrong guess that is long'
    await post(users, '/v1/auth/login', { email: 'secret@example.com', password: wrong })
    const newPassword = 'amber walrus quietly juggles 9'
    await post(
      users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword },
      first.accessToken,
    )
    const third = await login(users, 'secret@example.com', newPassword)
    await post(users, '/v1/auth/refresh', { refreshToken: third.refreshToken })
    await post(users, '/v1/auth/refresh', { refreshToken: third.refreshToken })
    secrets.push(wrong, newPassword)
    for (const s of [first, second, third]) secrets.push(s.accessToken, s.refreshToken)
    const user = await pair.db
      .collection('users')
      .findOne({ email: 'secret@example.com' }, { projection: { passwordHash: 1 } })
    secrets.push(String(user?.passwordHash))

    const stored = JSON.stringify(await pair.db.collection('audit_events').find({}).toArray())
    expect(JSON.parse(stored)).toHaveLength(6)
    const logs = pair.logs()
    for (const secret of secrets) {
      expect(stored).not.toContain(secret)
      expect(logs).not.toContain(secret)
    }
    expect(stored).not.toContain('argon2')
    expect(stored).not.toContain('secret@example.com')
  })

  it('fails the request when its event cannot be stored, except a refused login', async () => {
    const pair = await startPair()
    const { users } = pair
    await signup(users, 'kim@example.com')
    // A deliberately broken store: an event whose request id is taken cannot be written.
    await pair.db
      .collection('audit_events')
      .createIndexes([{ key: { requestId: 1 }, name: 'requestId_1', unique: true }])
    const attempt = (payload: object, requestId: string) =>
      users.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload,
        headers: withRequestId(requestId),
      })
    const wrong = { email: 'kim@example.com', password: 'wrong '.repeat(4) }
    problem(await attempt(wrong, 'taken-1'), 401, 'INVALID_CREDENTIALS')
    // The same refusal, whether or not its event was stored.
    const lost = problem(await attempt(wrong, 'taken-1'), 401, 'INVALID_CREDENTIALS')
    expect(lost.detail).toBe('The email or password is incorrect.')
    expect(pair.logs()).toContain('audit event lost')

    // A sign-in whose event is lost fails, and leaves no session behind.
    const sessionsBefore = await pair.db.collection('sessions').countDocuments({})
    const right = await attempt({ email: 'kim@example.com', password: goodPassword }, 'taken-1')
    expect(right.statusCode).toBeGreaterThanOrEqual(500)
    expect(await pair.db.collection('sessions').countDocuments({})).toBe(sessionsBefore)

    // A signup whose event is lost did not happen.
    const res = await users.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: 'lost@example.com', password: goodPassword },
      headers: withRequestId('taken-1'),
    })
    expect(res.statusCode).toBeGreaterThanOrEqual(500)
    expect(await pair.db.collection('users').countDocuments({ email: 'lost@example.com' })).toBe(0)
  })
})
