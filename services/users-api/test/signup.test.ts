import { describe, expect, it } from 'vitest'
import {
  goodPassword,
  post,
  problem,
  startPair,
  type Pair,
  type SessionBody,
} from './pair-harness.js'

async function userCount(p: Pair): Promise<number> {
  return p.db.collection('users').countDocuments()
}

describe('POST /v1/auth/signup', () => {
  it('creates the account, starts a session and never returns a hash', async () => {
    const pair = await startPair()
    const res = await post(pair.users, '/v1/auth/signup', {
      email: '  Alice@Example.COM ',
      password: goodPassword,
      name: 'Alice',
    })
    expect(res.statusCode).toBe(201)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    const body = res.json<SessionBody>()
    expect(res.headers.location).toBe(`/v1/users/${body.user.id}`)
    expect(body).toMatchObject({
      user: {
        email: 'alice@example.com',
        name: 'Alice',
        roles: ['user'],
        emailVerified: false,
        hasPassword: true,
        mfaEnabled: false,
        disabled: false,
      },
      tokenType: 'Bearer',
      expiresIn: 900,
    })
    expect(Object.keys(body.user).sort()).toEqual([
      'createdAt',
      'disabled',
      'email',
      'emailVerified',
      'hasPassword',
      'id',
      'mfaEnabled',
      'name',
      'roles',
      'updatedAt',
    ])
    expect(new Date(body.user.createdAt).toISOString()).toBe(body.user.createdAt)
    expect(body.refreshToken.length).toBeGreaterThanOrEqual(43)
    expect(res.body).not.toMatch(/argon2|passwordHash/)
    const stored = await pair.db.collection('users').findOne({ email: 'alice@example.com' })
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/)
    const session = await pair.db.collection('sessions').findOne({})
    expect(session?.refreshTokenHash).toBeDefined()
    expect(JSON.stringify(session)).not.toContain(body.refreshToken)
  })

  it('answers 409 EMAIL_TAKEN for an existing email, whatever its case and spacing', async () => {
    const pair = await startPair()
    await post(pair.users, '/v1/auth/signup', { email: 'bob@example.com', password: goodPassword })
    const again = await post(pair.users, '/v1/auth/signup', {
      email: ' BOB@example.com',
      password: goodPassword,
    })
    problem(again, 409, 'EMAIL_TAKEN')
    expect(await userCount(pair)).toBe(1)
  })

  it('lets exactly one of many concurrent signups with one email succeed', async () => {
    const pair = await startPair()
    const p = pair
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        post(p.users, '/v1/auth/signup', { email: 'race@example.com', password: goodPassword }),
      ),
    )
    const codes = results.map((r) => r.statusCode)
    expect(codes.filter((c) => c === 201)).toHaveLength(1)
    expect(codes.filter((c) => c === 409)).toHaveLength(11)
    expect(await userCount(pair)).toBe(1)
    expect(await pair.db.collection('sessions').countDocuments()).toBe(1)
  })

  it.each([
    ['too short', 'short pass', 'at least 15'],
    ['too long', 'x'.repeat(129), 'at most 128'],
    ['the email itself', 'longname.person@example.com', 'email'],
  ])('refuses a password that is %s, with the reason', async (_name, password, reason) => {
    const pair = await startPair()
    const res = await post(pair.users, '/v1/auth/signup', {
      email: 'longname.person@example.com',
      password,
    })
    const body = problem(res, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([
      { path: '/password', message: expect.stringContaining(reason) as string },
    ])
    expect(await userCount(pair)).toBe(0)
  })

  it('refuses passwords on the common-password blocklist, case-insensitively', async () => {
    const pair = await startPair({ usersEnv: { PASSWORD_MIN_LENGTH: '8' } })
    for (const password of ['password1', 'Sunshine', 'qwertyuiop', 'TRUSTNO1']) {
      const body = problem(
        await post(pair.users, '/v1/auth/signup', { email: 'c@example.com', password }),
        400,
        'VALIDATION_FAILED',
      )
      expect(JSON.stringify(body.errors)).toContain('too common')
    }
  })

  it('counts length in code points after NFKC, allows spaces and any Unicode, and never truncates', async () => {
    const pair = await startPair()
    // 15 astral code points are 30 UTF-16 units: long enough.
    expect(
      (
        await post(pair.users, '/v1/auth/signup', {
          email: 'e1@example.com',
          password: '🦊🐙🌵🎻🚲🍋🧭🪁🐢🌋🎲🦉🍄🛶🧊',
        })
      ).statusCode,
    ).toBe(201)
    // 12 code points before NFKC, 15 after it: 'ﬁ' → 'fi'.
    expect(
      (
        await post(pair.users, '/v1/auth/signup', {
          email: 'e2@example.com',
          password: 'ﬁve ﬁsh ﬁght',
        })
      ).statusCode,
    ).toBe(201)
    // 128 is the maximum and is kept whole: a 128-character password differs from its 127 prefix.
    const long = 'the quiet otter sold seven maps to a nervous lighthouse keeper '
      .repeat(3)
      .slice(0, 128)
    expect(
      (await post(pair.users, '/v1/auth/signup', { email: 'e3@example.com', password: long }))
        .statusCode,
    ).toBe(201)
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'e3@example.com',
        password: long.slice(0, 127),
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    // A composed and a decomposed "é" are the same password.
    const composed = 'caf\u00e9 au lait with cream'
    expect(
      (await post(pair.users, '/v1/auth/signup', { email: 'e4@example.com', password: composed }))
        .statusCode,
    ).toBe(201)
    expect(
      (
        await post(pair.users, '/v1/auth/login', {
          email: 'e4@example.com',
          password: composed.normalize('NFD'),
        })
      ).statusCode,
    ).toBe(200)
  })

  it.each([
    ['an unknown field', { email: 'm@example.com', password: goodPassword, role: 'admin' }],
    ['_id', { email: 'm@example.com', password: goodPassword, _id: '000000000000000000000000' }],
    ['passwordHash', { email: 'm@example.com', password: goodPassword, passwordHash: 'x' }],
    ['roles', { email: 'm@example.com', password: goodPassword, roles: ['admin'] }],
    ['an operator object', { email: { $ne: null }, password: goodPassword }],
    ['a wrong type', { email: 'm@example.com', password: 123456789012345 }],
    ['a missing field', { email: 'm@example.com' }],
    ['a malformed email', { email: 'not-an-email', password: goodPassword }],
    ['an array body', [{ email: 'm@example.com', password: goodPassword }]],
  ])('rejects %s with 400 and stores nothing', async (_name, body) => {
    const pair = await startPair()
    problem(await post(pair.users, '/v1/auth/signup', body), 400, 'VALIDATION_FAILED')
    expect(await userCount(pair)).toBe(0)
  })

  it('stores nothing and answers 503 with Retry-After when auth-api is down', async () => {
    const pair = await startPair()
    await pair.auth.close()
    const res = await post(pair.users, '/v1/auth/signup', {
      email: 'down@example.com',
      password: goodPassword,
    })
    problem(res, 503, 'SERVICE_UNAVAILABLE')
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(await userCount(pair)).toBe(0)
  })
})
