import { describe, expect, it } from 'vitest'
import { get, makeAdmin, post, problem, send, signup, startPair } from './pair-harness.js'

describe('admin routes', () => {
  it('are closed to anonymous callers (401) and to non-admins (403)', async () => {
    const pair = await startPair()
    const user = await signup(pair.users, 'plain@example.com')
    const id = user.user.id
    for (const [method, url] of [
      ['GET', '/v1/users'],
      ['GET', `/v1/users/${id}`],
      ['DELETE', `/v1/users/${id}`],
    ] as const) {
      problem(await pair.users.inject({ method, url }), 401, 'UNAUTHORIZED')
      problem(
        await pair.users.inject({
          method,
          url,
          headers: { authorization: `Bearer ${user.accessToken}` },
        }),
        403,
        'FORBIDDEN',
      )
    }
    expect(await pair.db.collection('users').countDocuments()).toBe(1)
  })

  it('pages through every user with a cursor', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'root@example.com')
    for (let i = 0; i < 6; i++) await signup(pair.users, `member${i}@example.com`)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = cursor ? `?limit=3&cursor=${cursor}` : '?limit=3'
      const res = await get(pair.users, `/v1/users${query}`, admin)
      expect(res.statusCode).toBe(200)
      const page = res.json<{ items: { email: string }[]; nextCursor: string | null }>()
      expect(page.items.length).toBeLessThanOrEqual(3)
      seen.push(...page.items.map((u) => u.email))
      cursor = page.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(7)
    expect(JSON.stringify(seen)).not.toMatch(/argon2/)
    for (const q of ['?limit=0', '?limit=101', '?limit=abc', '?cursor=zzz', '?cursor[$gt]=a']) {
      problem(await get(pair.users, `/v1/users${q}`, admin), 400, 'VALIDATION_FAILED')
    }
  })

  it('reads and deletes a user; the deleted user’s tokens die at once', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'boss@example.com')
    const victim = await signup(pair.users, 'victim@example.com')
    const read = await get(pair.users, `/v1/users/${victim.user.id}`, admin)
    expect(read.json()).toEqual(victim.user)
    expect(
      (await send(pair.users, 'DELETE', `/v1/users/${victim.user.id}`, undefined, admin))
        .statusCode,
    ).toBe(204)
    problem(await get(pair.users, '/v1/users/me', victim.accessToken), 401, 'UNAUTHORIZED')
    problem(
      await post(pair.users, '/v1/auth/refresh', { refreshToken: victim.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    )
    problem(await get(pair.users, `/v1/users/${victim.user.id}`, admin), 404, 'NOT_FOUND')
    problem(
      await send(pair.users, 'DELETE', `/v1/users/${victim.user.id}`, undefined, admin),
      404,
      'NOT_FOUND',
    )
    problem(await get(pair.users, '/v1/users/not-an-id', admin), 400, 'VALIDATION_FAILED')
  })

  it('loses admin rights as soon as the role is removed', async () => {
    const pair = await startPair()
    const admin = await makeAdmin(pair, 'former@example.com')
    expect((await get(pair.users, '/v1/users', admin)).statusCode).toBe(200)
    await pair.db
      .collection('users')
      .updateOne({ email: 'former@example.com' }, { $set: { roles: ['user'] } })
    problem(await get(pair.users, '/v1/users', admin), 403, 'FORBIDDEN')
  })
})
