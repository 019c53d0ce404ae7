import { randomBytes } from 'node:crypto'
import { createLogger } from '@users-auth/service-kit'
import { createAuthApi } from 'auth-api/create'
import { Types } from 'mongoose'
import { describe, expect, it } from 'vitest'
import { createUsersApi } from '../src/create-users-api.js'
import {
  claimsOf,
  enrolledAccount,
  mfaToken,
  testClock,
  totpCode,
  wrongCode,
} from './mfa-harness.js'
import {
  cheapArgon2,
  credential,
  get,
  goodPassword,
  login,
  post,
  problem,
  send,
  signup,
  startPair,
  waitUntilReady,
  type SessionBody,
} from './pair-harness.js'

describe('TOTP enrolment', () => {
  it('answers a QR-ready otpauth URI, needs the password, and turns on with a first code', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const session = await signup(pair.users, 'ada@example.com')
    const other = await login(pair.users, 'ada@example.com')

    problem(
      await post(pair.users, '/v1/users/me/mfa/totp', {}, session.accessToken),
      400,
      'VALIDATION_FAILED',
    )
    problem(
      await post(
        pair.users,
        '/v1/users/me/mfa/totp',
        { password: 'not the password at all' },
        session.accessToken,
      ),
      401,
      'INVALID_CREDENTIALS',
    )
    const enrol = await post(
      pair.users,
      '/v1/users/me/mfa/totp',
      { password: goodPassword },
      session.accessToken,
    )
    expect(enrol.statusCode).toBe(200)
    const { secret, otpauthUri } = enrol.json<{ secret: string; otpauthUri: string }>()
    const uri = new URL(otpauthUri)
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.host).toBe('totp')
    expect(uri.searchParams.get('secret')).toBe(secret)
    expect(uri.searchParams.get('issuer')).toBe('users-auth')
    expect(decodeURIComponent(uri.pathname)).toBe('/users-auth:ada@example.com')

    // Pending: login still needs no second factor, and a wrong code does not confirm.
    await login(pair.users, 'ada@example.com')
    problem(
      await post(
        pair.users,
        '/v1/users/me/mfa/totp/confirm',
        { code: wrongCode(secret, clock.ms) },
        session.accessToken,
      ),
      401,
      'INVALID_MFA_CODE',
    )
    const confirm = await post(
      pair.users,
      '/v1/users/me/mfa/totp/confirm',
      { code: totpCode(secret, clock.ms) },
      session.accessToken,
    )
    expect(confirm.statusCode).toBe(200)
    const { recoveryCodes } = confirm.json<{ recoveryCodes: string[] }>()
    expect(recoveryCodes).toHaveLength(10)
    expect(new Set(recoveryCodes).size).toBe(10)
    for (const code of recoveryCodes) expect(code).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/)

    // The caller's session stays; every other one ended.
    const me = await get(pair.users, '/v1/users/me', session.accessToken)
    expect(me.json<{ mfaEnabled: boolean }>().mfaEnabled).toBe(true)
    problem(await get(pair.users, '/v1/users/me', other.accessToken), 401, 'UNAUTHORIZED')
    expect(await pair.db.collection('sessions').countDocuments()).toBe(1)

    // A second enrolment while on is refused.
    problem(
      await post(
        pair.users,
        '/v1/users/me/mfa/totp',
        { password: goodPassword },
        session.accessToken,
      ),
      403,
      'FORBIDDEN',
    )
    const events = await pair.db.collection('audit_events').find({ event: 'mfa.enable' }).toArray()
    expect(events).toHaveLength(1)
  })

  it('refuses a confirmation after the enrolment went stale', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const session = await signup(pair.users, 'late@example.com')
    const enrol = await post(
      pair.users,
      '/v1/users/me/mfa/totp',
      { password: goodPassword },
      session.accessToken,
    )
    const { secret } = enrol.json<{ secret: string }>()
    clock.ms += 16 * 60_000
    problem(
      await post(
        pair.users,
        '/v1/users/me/mfa/totp/confirm',
        { code: totpCode(secret, clock.ms) },
        session.accessToken,
      ),
      401,
      'INVALID_MFA_CODE',
    )
  })
})

describe('login with a second factor', () => {
  it('answers MFA_REQUIRED with an mfaToken and no session, then a TOTP code completes it', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const account = await enrolledAccount(pair.users, 'bo@example.com', clock)
    const before = await pair.db.collection('sessions').countDocuments()

    const res = await post(pair.users, '/v1/auth/login', {
      email: account.email,
      password: goodPassword,
    })
    const body = problem(res, 401, 'MFA_REQUIRED')
    expect(Object.keys(body).sort()).toEqual(
      ['code', 'detail', 'mfaToken', 'status', 'title', 'traceId', 'type'].sort(),
    )
    expect(await pair.db.collection('sessions').countDocuments()).toBe(before)
    // A wrong password still says only INVALID_CREDENTIALS, with no token.
    const wrong = problem(
      await post(pair.users, '/v1/auth/login', {
        email: account.email,
        password: 'not the password at all',
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    expect(wrong.mfaToken).toBeUndefined()

    clock.ms += 10_000
    const verified = await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: body.mfaToken,
      code: totpCode(account.secret, clock.ms),
    })
    expect(verified.statusCode, verified.body).toBe(200)
    expect(verified.headers['cache-control']).toBe('no-store')
    const session = verified.json<SessionBody>()
    const claims = claimsOf(session.accessToken)
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa'])
    expect(claims.auth_time).toBe(Math.floor(clock.ms / 1000))
    expect((await get(pair.users, '/v1/users/me', session.accessToken)).statusCode).toBe(200)
    // Refreshes keep how the session was authenticated.
    const refreshed = await post(pair.users, '/v1/auth/refresh', {
      refreshToken: session.refreshToken,
    })
    expect(claimsOf(refreshed.json<SessionBody>().accessToken).amr).toEqual(['pwd', 'otp', 'mfa'])

    // The token was single use.
    clock.nextStep()
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: body.mfaToken,
        code: totpCode(account.secret, clock.ms),
      }),
      401,
      'INVALID_MFA_CODE',
    )
    const challenges = await pair.db
      .collection('audit_events')
      .find({ event: 'mfa.challenge' })
      .toArray()
    expect(challenges.length).toBeGreaterThanOrEqual(1)
  })

  it('accepts a TOTP step once per account: a replayed code fails, two concurrent uses give one session', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const account = await enrolledAccount(pair.users, 'cy@example.com', clock)
    const code = totpCode(account.secret, clock.ms)
    const first = await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: await mfaToken(pair.users, account.email),
      code,
    })
    expect(first.statusCode).toBe(200)
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(pair.users, account.email),
        code,
      }),
      401,
      'INVALID_MFA_CODE',
    )
    // The previous step's code is older than the one accepted: refused too.
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(pair.users, account.email),
        code: totpCode(account.secret, clock.ms - 30_000),
      }),
      401,
      'INVALID_MFA_CODE',
    )

    clock.nextStep()
    const next = totpCode(account.secret, clock.ms)
    const tokens = await Promise.all(
      Array.from({ length: 6 }, () => mfaToken(pair.users, account.email)),
    )
    const answers = await Promise.all(
      tokens.map((t) => post(pair.users, '/v1/auth/mfa/verify', { mfaToken: t, code: next })),
    )
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 401, 401, 401, 401, 401])
  })

  it('takes each recovery code once, even when it arrives many times at once', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const account = await enrolledAccount(pair.users, 'dee@example.com', clock)
    const [code = '', second = ''] = account.recoveryCodes
    const tokens = await Promise.all(
      Array.from({ length: 8 }, () => mfaToken(pair.users, account.email)),
    )
    const answers = await Promise.all(
      tokens.map((t) => post(pair.users, '/v1/auth/mfa/verify', { mfaToken: t, code })),
    )
    const ok = answers.filter((a) => a.statusCode === 200)
    expect(ok).toHaveLength(1)
    for (const a of answers.filter((x) => x.statusCode !== 200)) problem(a, 401, 'INVALID_MFA_CODE')
    expect(claimsOf(ok[0]!.json<SessionBody>().accessToken).amr).toEqual(['pwd', 'mfa'])
    // Case and dashes do not matter; the other codes still work once each.
    const relaxed = second.replaceAll('-', '').toLowerCase()
    const res = await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: await mfaToken(pair.users, account.email),
      code: relaxed,
    })
    expect(res.statusCode).toBe(200)
  })

  it('kills the mfaToken after 5 wrong codes, after 5 minutes, and on a password change', async () => {
    const clock = testClock()
    const pair = await startPair({
      now: clock.users,
      authNow: clock.auth,
      usersEnv: { LOCKOUT_THRESHOLD: '30', LOCKOUT_HARD_LIMIT: '40' },
    })
    const account = await enrolledAccount(pair.users, 'eve@example.com', clock)
    const token = await mfaToken(pair.users, account.email)
    const bad = wrongCode(account.secret, clock.ms)
    for (let i = 0; i < 5; i++) {
      problem(
        await post(pair.users, '/v1/auth/mfa/verify', { mfaToken: token, code: bad }),
        401,
        'INVALID_MFA_CODE',
      )
    }
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: token,
        code: totpCode(account.secret, clock.ms),
      }),
      401,
      'INVALID_MFA_CODE',
    )

    const stale = await mfaToken(pair.users, account.email)
    clock.ms += 5 * 60_000 + 1000
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: stale,
        code: totpCode(account.secret, clock.ms),
      }),
      401,
      'INVALID_MFA_CODE',
    )

    const pending = await mfaToken(pair.users, account.email)
    const changed = await post(
      pair.users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword: 'a wholly different passphrase 93' },
      account.session.accessToken,
    )
    expect(changed.statusCode).toBe(204)
    clock.nextStep()
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: pending,
        code: totpCode(account.secret, clock.ms),
      }),
      401,
      'INVALID_MFA_CODE',
    )
    // An unknown token costs no code check and says the same.
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: 'A'.repeat(43),
        code: totpCode(account.secret, clock.ms),
      }),
      401,
      'INVALID_MFA_CODE',
    )
  })
})

describe('turning the factor off and replacing recovery codes', () => {
  it('disables with a code, ending other sessions; login then needs no second factor', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const account = await enrolledAccount(pair.users, 'fay@example.com', clock)
    const other = await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: await mfaToken(pair.users, account.email),
      code: totpCode(account.secret, clock.ms),
    })
    const otherSession = other.json<SessionBody>()
    problem(
      await send(
        pair.users,
        'DELETE',
        '/v1/users/me/mfa/totp',
        { code: totpCode(account.secret, clock.ms) },
        account.session.accessToken,
      ),
      401,
      'INVALID_MFA_CODE',
    )
    const off = await send(
      pair.users,
      'DELETE',
      '/v1/users/me/mfa/totp',
      { code: account.recoveryCodes[0] },
      account.session.accessToken,
    )
    expect(off.statusCode).toBe(204)
    problem(await get(pair.users, '/v1/users/me', otherSession.accessToken), 401, 'UNAUTHORIZED')
    expect(
      (await get(pair.users, '/v1/users/me', account.session.accessToken)).json<{
        mfaEnabled: boolean
      }>().mfaEnabled,
    ).toBe(false)
    const plain = await login(pair.users, account.email)
    expect(claimsOf(plain.accessToken).amr).toEqual(['pwd'])
    expect(await pair.db.collection('mfa_factors').countDocuments()).toBe(0)
    problem(
      await send(
        pair.users,
        'DELETE',
        '/v1/users/me/mfa/totp',
        { code: '123456' },
        account.session.accessToken,
      ),
      404,
      'NOT_FOUND',
    )
    expect(await pair.db.collection('audit_events').countDocuments({ event: 'mfa.disable' })).toBe(
      1,
    )
  })

  it('replaces every recovery code: old ones stop working, new ones work once', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const account = await enrolledAccount(pair.users, 'gus@example.com', clock)
    const res = await post(
      pair.users,
      '/v1/users/me/mfa/recovery-codes',
      { code: totpCode(account.secret, clock.ms) },
      account.session.accessToken,
    )
    expect(res.statusCode).toBe(200)
    const { recoveryCodes } = res.json<{ recoveryCodes: string[] }>()
    expect(recoveryCodes).toHaveLength(10)
    problem(
      await post(pair.users, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(pair.users, account.email),
        code: account.recoveryCodes[1],
      }),
      401,
      'INVALID_MFA_CODE',
    )
    const ok = await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: await mfaToken(pair.users, account.email),
      code: recoveryCodes[1],
    })
    expect(ok.statusCode).toBe(200)
    expect(
      await pair.db.collection('audit_events').countDocuments({ event: 'mfa.recovery_codes' }),
    ).toBe(1)
  })
})

describe('secrets at rest and in logs', () => {
  it('leave no TOTP secret, recovery code or mfaToken in any collection or log line', async () => {
    const clock = testClock()
    const pair = await startPair({ now: clock.users, authNow: clock.auth })
    const account = await enrolledAccount(pair.users, 'hal@example.com', clock)
    const token = await mfaToken(pair.users, account.email)
    const used = totpCode(account.secret, clock.ms)
    const wrong = wrongCode(account.secret, clock.ms)
    await post(pair.users, '/v1/auth/mfa/verify', { mfaToken: token, code: wrong })
    expect(
      (await post(pair.users, '/v1/auth/mfa/verify', { mfaToken: token, code: used })).statusCode,
    ).toBe(200)
    await post(pair.users, '/v1/auth/mfa/verify', {
      mfaToken: await mfaToken(pair.users, account.email),
      code: account.recoveryCodes[2],
    })
    const pendingToken = await mfaToken(pair.users, account.email)

    const secrets = [
      account.secret,
      account.otpauthUri,
      encodeURIComponent(account.secret),
      token,
      pendingToken,
      ...account.recoveryCodes,
      ...account.recoveryCodes.map((c) => c.replaceAll('-', '')),
    ]
    const names = (await pair.db.db!.listCollections().toArray()).map((c) => c.name)
    expect(names).toEqual(expect.arrayContaining(['mfa_factors', 'mfa_challenges']))
    let dump = ''
    for (const name of names) {
      dump += JSON.stringify(await pair.db.collection(name).find().toArray())
    }
    for (const secret of secrets) expect(dump).not.toContain(secret)
    // The factor holds a ciphertext, not the secret in any encoding.
    const factor = await pair.db.collection('mfa_factors').findOne()
    expect(String(factor?.ciphertext)).toMatch(/^v1\./)
    expect(dump).not.toContain(Buffer.from(account.secret).toString('base64'))

    const logs = pair.logs()
    expect(logs).toMatch(/"mfa\.challenge"/)
    for (const secret of secrets) expect(logs).not.toContain(secret)
    for (const code of [used, wrong])
      expect(logs).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`))
  })
})

describe('TOTP key rotation', () => {
  it('keeps enrolled factors working under a new key and re-encrypts them on use', async () => {
    const clock = testClock()
    const oldKey = `old:${randomBytes(32).toString('base64')}`
    const pair = await startPair({
      now: clock.users,
      authNow: clock.auth,
      authEnv: { TOTP_ENCRYPTION_KEYS: oldKey },
    })
    const account = await enrolledAccount(pair.users, 'ike@example.com', clock)
    const stored = async () =>
      String((await pair.db.collection('mfa_factors').findOne())?.ciphertext)
    expect(await stored()).toMatch(/^v1\.old\./)

    // auth-api restarted with a new key first and the old one kept, users-api on it.
    const rotated = await createAuthApi(
      {
        NODE_ENV: 'test',
        INTERNAL_API_TOKEN: credential,
        TOTP_ENCRYPTION_KEYS: `new:${randomBytes(32).toString('base64')},${oldKey}`,
        ...cheapArgon2,
      },
      { logger: createLogger({ level: 'silent' }), now: clock.auth },
    )
    const authUrl = await rotated.app.listen({ port: 0, host: '127.0.0.1' })
    const users = await createUsersApi(
      {
        NODE_ENV: 'test',
        INTERNAL_API_TOKEN: credential,
        MONGODB_URI: pair.mongoUri,
        AUTH_API_URL: authUrl,
      },
      { logger: createLogger({ level: 'silent' }), now: clock.users },
    )
    try {
      await waitUntilReady(users.app)
      const res = await post(users.app, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(users.app, account.email),
        code: totpCode(account.secret, clock.ms),
      })
      expect(res.statusCode, res.body).toBe(200)
      expect(await stored()).toMatch(/^v1\.new\./)
      // The re-sealed secret is the same one: the next step's code works too.
      clock.nextStep()
      const again = await post(users.app, '/v1/auth/mfa/verify', {
        mfaToken: await mfaToken(users.app, account.email),
        code: totpCode(account.secret, clock.ms),
      })
      expect(again.statusCode, again.body).toBe(200)
      // New enrolments use the new key.
      const other = await signup(users.app, 'jan@example.com')
      const enrol = await post(
        users.app,
        '/v1/users/me/mfa/totp',
        { password: goodPassword },
        other.accessToken,
      )
      expect(enrol.statusCode).toBe(200)
      const pending = await pair.db
        .collection('mfa_factors')
        .findOne({ _id: new Types.ObjectId(other.user.id) })
      expect(String(pending?.ciphertext)).toMatch(/^v1\.new\./)
    } finally {
      await users.app.close()
      await rotated.app.close()
    }
  })
})
