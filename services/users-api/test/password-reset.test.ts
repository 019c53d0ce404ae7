import { Types } from 'mongoose'
import { describe, expect, it } from 'vitest'
import {
  get,
  goodPassword,
  login,
  post,
  problem,
  signup,
  startPair,
  type Pair,
} from './pair-harness.js'
import { tokenFrom } from './mail-server.js'
import { totpCode } from './mfa-harness.js'

const resetSubject = /Reset your password/
const newPassword = 'amber walrus quietly juggles 9'

async function resetToken(pair: Pair, email: string, typed = email): Promise<string> {
  const res = await post(pair.users, '/v1/auth/password/forgot', { email: typed })
  expect(res.statusCode).toBe(202)
  return tokenFrom(await pair.mail.mailTo(email, resetSubject), 'reset-password')
}

/** The headers of an answer that may differ between any two requests. */
function stableHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => !['date', 'x-request-id'].includes(name) && !name.startsWith('x-ratelimit-'),
    ),
  )
}

describe('forgot and reset password', () => {
  it('mails a link; the reset sets the password, verifies the address and ends every session', async () => {
    const pair = await startPair()
    const first = await signup(pair.users, 'rita@example.com')
    const second = await login(pair.users, 'rita@example.com')
    const token = await resetToken(pair, 'rita@example.com', ' Rita@Example.com ')

    const res = await post(pair.users, '/v1/auth/password/reset', { token, newPassword })
    expect(res.statusCode).toBe(204)
    for (const session of [first, second]) {
      problem(await get(pair.users, '/v1/users/me', session.accessToken), 401, 'UNAUTHORIZED')
      problem(
        await post(pair.users, '/v1/auth/refresh', { refreshToken: session.refreshToken }),
        401,
        'REFRESH_TOKEN_INVALID',
      )
    }
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'rita@example.com',
        password: goodPassword,
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    const after = await login(pair.users, 'rita@example.com', newPassword)
    expect(after.user).toMatchObject({ emailVerified: true, hasPassword: true })
    // Used once.
    problem(
      await post(pair.users, '/v1/auth/password/reset', { token, newPassword }),
      400,
      'INVALID_TOKEN',
    )
    const events = await pair.db
      .collection('audit_events')
      .find({ event: { $in: ['password.forgot', 'password.reset'] } })
      .toArray()
    expect(events.map((e) => String(e.event)).sort()).toEqual(['password.forgot', 'password.reset'])
    expect(JSON.stringify(events)).not.toContain(token)
    // No log line carries the token (or any mailed link).
    expect(pair.logs()).not.toContain(token)
    expect(pair.logs()).not.toMatch(/#token=/)
  })

  it('answers unknown and known addresses alike and mails only the known one', async () => {
    const pair = await startPair()
    await signup(pair.users, 'known@example.com')
    const known = await post(pair.users, '/v1/auth/password/forgot', { email: 'known@example.com' })
    const unknown = await post(pair.users, '/v1/auth/password/forgot', {
      email: 'nobody@example.com',
    })
    expect(known.statusCode).toBe(202)
    expect(unknown.statusCode).toBe(202)
    expect(unknown.body).toBe(known.body)
    expect(stableHeaders(unknown.headers)).toEqual(stableHeaders(known.headers))
    await pair.mail.mailTo('known@example.com', resetSubject)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(pair.mail.received.some((m) => m.to.includes('nobody@example.com'))).toBe(false)
  })

  it('keeps the token usable when the new password is refused by the policy', async () => {
    const pair = await startPair()
    await signup(pair.users, 'policy@example.com')
    const token = await resetToken(pair, 'policy@example.com')
    const weak = await post(pair.users, '/v1/auth/password/reset', {
      token,
      newPassword: 'password1234567',
    })
    const body = problem(weak, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([{ path: '/newPassword', message: expect.any(String) as unknown }])
    expect(
      (await post(pair.users, '/v1/auth/password/reset', { token, newPassword })).statusCode,
    ).toBe(204)
  })

  it('lets exactly one of concurrent resets with one token win', async () => {
    const pair = await startPair()
    await signup(pair.users, 'twice@example.com')
    const token = await resetToken(pair, 'twice@example.com')
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        post(pair.users, '/v1/auth/password/reset', {
          token,
          newPassword: `${newPassword} ${String(i)}`,
        }),
      ),
    )
    const codes = results.map((r) => r.statusCode).sort()
    expect(codes).toEqual([204, ...Array<number>(7).fill(400)])
    const winner = results.findIndex((r) => r.statusCode === 204)
    await login(pair.users, 'twice@example.com', `${newPassword} ${String(winner)}`)
  })

  it('voids a token by a newer one and by a password change', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, 'void@example.com')
    const older = await resetToken(pair, 'void@example.com')
    const newer = await resetToken(pair, 'void@example.com')
    problem(
      await post(pair.users, '/v1/auth/password/reset', { token: older, newPassword }),
      400,
      'INVALID_TOKEN',
    )
    const changed = await post(
      pair.users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword: 'a different long passphrase 77' },
      session.accessToken,
    )
    expect(changed.statusCode).toBe(204)
    problem(
      await post(pair.users, '/v1/auth/password/reset', { token: newer, newPassword }),
      400,
      'INVALID_TOKEN',
    )
  })

  it('refuses a token after 1 h (injected clock) and a token of another purpose', async () => {
    let offsetMs = 0
    const pair = await startPair({ now: () => new Date(Date.now() + offsetMs) })
    await signup(pair.users, 'expire@example.com')
    const token = await resetToken(pair, 'expire@example.com')
    problem(await post(pair.users, '/v1/auth/email/verify', { token }), 400, 'INVALID_TOKEN')
    problem(
      await post(pair.users, '/v1/auth/email/change/confirm', { token }),
      400,
      'INVALID_TOKEN',
    )
    offsetMs = 60 * 60_000 + 1000
    problem(
      await post(pair.users, '/v1/auth/password/reset', { token, newPassword }),
      400,
      'INVALID_TOKEN',
    )
  })

  it('gives an account without a password (social login only) one', async () => {
    const pair = await startPair()
    const now = new Date()
    await pair.db.collection('users').insertOne({
      _id: new Types.ObjectId(),
      email: 'social@example.com',
      name: 'Social',
      hasPassword: false,
      emailVerified: true,
      mfaEnabled: false,
      disabled: false,
      roles: ['user'],
      passwordChangedAt: now,
      credentialVersion: 0,
      createdAt: now,
      updatedAt: now,
    })
    const token = await resetToken(pair, 'social@example.com')
    expect(
      (await post(pair.users, '/v1/auth/password/reset', { token, newPassword })).statusCode,
    ).toBe(204)
    const session = await login(pair.users, 'social@example.com', newPassword)
    expect(session.user).toMatchObject({ hasPassword: true })
  })

  it('limits mail per address silently and answers 429 once the IP budget is spent', async () => {
    const pair = await startPair({ usersEnv: { RATE_LIMIT_IP_MAX: '8' } })
    await signup(pair.users, 'flood@example.com')
    await pair.mail.mailTo('flood@example.com', /Verify/)
    const answers = []
    for (let i = 0; i < 7; i++) {
      answers.push(
        await post(pair.users, '/v1/auth/password/forgot', { email: 'flood@example.com' }),
      )
    }
    // The signup spent one unit of the IP's 8, these 7 the rest: the next is refused.
    expect(answers.map((r) => r.statusCode)).toEqual(Array(7).fill(202))
    const refused = await post(pair.users, '/v1/auth/password/forgot', {
      email: 'flood@example.com',
    })
    problem(refused, 429, 'RATE_LIMITED')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    // Signup's verification mail and 4 reset mails: 5 for this address this hour.
    await pair.mail.waitFor(
      () => pair.mail.received.filter((m) => m.to.includes('flood@example.com')).length >= 5,
    )
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(pair.mail.received.filter((m) => m.to.includes('flood@example.com'))).toHaveLength(5)
  })
})

describe('taking an address back from whoever registered it first', () => {
  it('a reset that first proves the address removes a second factor an intruder turned on', async () => {
    const pair = await startPair()
    // The intruder signs up with the owner's address (never verified) and turns TOTP on.
    const intruder = await signup(pair.users, 'owner@example.com')
    const enrol = await post(
      pair.users,
      '/v1/users/me/mfa/totp',
      { password: goodPassword },
      intruder.accessToken,
    )
    expect(enrol.statusCode, enrol.body).toBe(200)
    const { secret } = enrol.json<{ secret: string }>()
    const confirm = await post(
      pair.users,
      '/v1/users/me/mfa/totp/confirm',
      { code: totpCode(secret, Date.now()) },
      intruder.accessToken,
    )
    expect(confirm.statusCode, confirm.body).toBe(200)

    // The owner, refused at signup, resets the password through the mailbox.
    problem(
      await post(pair.users, '/v1/auth/signup', {
        email: 'owner@example.com',
        password: newPassword,
      }),
      409,
      'EMAIL_TAKEN',
    )
    const token = await resetToken(pair, 'owner@example.com')
    expect(
      (await post(pair.users, '/v1/auth/password/reset', { token, newPassword })).statusCode,
    ).toBe(204)
    // The owner signs in with the password alone; the intruder's factor is gone.
    const owner = await login(pair.users, 'owner@example.com', newPassword)
    expect(owner.user).toMatchObject({ emailVerified: true, mfaEnabled: false })
    expect(await pair.db.collection('mfa_factors').countDocuments()).toBe(0)
  })

  it('forgot-password for an address nobody has spends none of its mail budget', async () => {
    const pair = await startPair()
    for (let i = 0; i < 7; i++) {
      const res = await post(pair.users, '/v1/auth/password/forgot', { email: 'later@example.com' })
      expect(res.statusCode).toBe(202)
    }
    // The owner signs up later: the verification mail still goes out.
    await signup(pair.users, 'later@example.com')
    const mail = await pair.mail.mailTo('later@example.com', /Verify/)
    expect(tokenFrom(mail, 'verify-email')).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })
})
