import { describe, expect, it } from 'vitest'
import { get, goodPassword, login, post, problem, signup, startPair } from './pair-harness.js'
import { tokenFrom } from './mail-server.js'

const confirmSubject = /Confirm your new email address/
const noticeSubject = /Your email address is being changed/

describe('email change', () => {
  it('confirms at the new address, tells the old one, and ends every other session', async () => {
    const pair = await startPair()
    const asking = await signup(pair.users, 'old@example.com')
    const other = await login(pair.users, 'old@example.com')
    const res = await post(
      pair.users,
      '/v1/users/me/email',
      { newEmail: ' New@Example.com', password: goodPassword },
      asking.accessToken,
    )
    expect(res.statusCode).toBe(202)
    const notice = await pair.mail.mailTo('old@example.com', noticeSubject)
    expect(notice.text).toContain('new@example.com')
    expect(notice.text).not.toMatch(/#token=/)
    const token = tokenFrom(
      await pair.mail.mailTo('new@example.com', confirmSubject),
      'confirm-email',
    )
    // Nothing changes before the confirmation.
    expect((await get(pair.users, '/v1/users/me', other.accessToken)).json()).toMatchObject({
      email: 'old@example.com',
    })

    const confirmed = await post(pair.users, '/v1/auth/email/change/confirm', { token })
    expect(confirmed.statusCode).toBe(200)
    expect(confirmed.json()).toMatchObject({ email: 'new@example.com', emailVerified: true })
    problem(await get(pair.users, '/v1/users/me', other.accessToken), 401, 'UNAUTHORIZED')
    expect((await get(pair.users, '/v1/users/me', asking.accessToken)).json()).toMatchObject({
      email: 'new@example.com',
    })
    await login(pair.users, 'new@example.com')
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'old@example.com',
        password: goodPassword,
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    problem(
      await post(pair.users, '/v1/auth/email/change/confirm', { token }),
      400,
      'INVALID_TOKEN',
    )
    const events = await pair.db
      .collection('audit_events')
      .find({ event: 'email.change' })
      .toArray()
    expect(events.map((e) => String(e.outcome))).toEqual(['success'])
  })

  it('checks the password under the lockout and refuses a wrong one', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, 'guard@example.com')
    problem(
      await post(
        pair.users,
        '/v1/users/me/email',
        { newEmail: 'x@example.com', password: 'not the password at all' },
        session.accessToken,
      ),
      401,
      'INVALID_CREDENTIALS',
    )
    let last
    for (let i = 0; i < 6; i++) {
      last = await post(
        pair.users,
        '/v1/users/me/email',
        { newEmail: 'x@example.com', password: 'not the password at all' },
        session.accessToken,
      )
    }
    if (!last) throw new Error('no answer')
    problem(last, 429, 'RATE_LIMITED')
    problem(
      await post(pair.users, '/v1/users/me/email', {
        newEmail: 'x@example.com',
        password: goodPassword,
      }),
      401,
      'UNAUTHORIZED',
    )
  })

  it('answers 409 EMAIL_TAKEN when the address was taken before the confirmation', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, 'mover@example.com')
    await post(
      pair.users,
      '/v1/users/me/email',
      { newEmail: 'contested@example.com', password: goodPassword },
      session.accessToken,
    )
    const token = tokenFrom(
      await pair.mail.mailTo('contested@example.com', confirmSubject),
      'confirm-email',
    )
    await signup(pair.users, 'contested@example.com')
    problem(await post(pair.users, '/v1/auth/email/change/confirm', { token }), 409, 'EMAIL_TAKEN')
    expect((await get(pair.users, '/v1/users/me', session.accessToken)).json()).toMatchObject({
      email: 'mover@example.com',
    })
  })

  it('voids the link when the password changes, and after 1 h (injected clock)', async () => {
    let offsetMs = 0
    const pair = await startPair({ now: () => new Date(Date.now() + offsetMs) })
    const session = await signup(pair.users, 'cv@example.com')
    const ask = (newEmail: string) =>
      post(
        pair.users,
        '/v1/users/me/email',
        { newEmail, password: goodPassword },
        session.accessToken,
      )
    await ask('late@example.com')
    const late = tokenFrom(
      await pair.mail.mailTo('late@example.com', confirmSubject),
      'confirm-email',
    )
    offsetMs = 60 * 60_000 + 1000
    problem(
      await post(pair.users, '/v1/auth/email/change/confirm', { token: late }),
      400,
      'INVALID_TOKEN',
    )
    offsetMs = 0
    await ask('second@example.com')
    const second = tokenFrom(
      await pair.mail.mailTo('second@example.com', confirmSubject),
      'confirm-email',
    )
    await post(
      pair.users,
      '/v1/users/me/password',
      { currentPassword: goodPassword, newPassword: 'a different long passphrase 77' },
      session.accessToken,
    )
    problem(
      await post(pair.users, '/v1/auth/email/change/confirm', { token: second }),
      400,
      'INVALID_TOKEN',
    )
  })

  it('refuses the current address and malformed input with 400', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, 'same@example.com')
    problem(
      await post(
        pair.users,
        '/v1/users/me/email',
        { newEmail: 'SAME@example.com', password: goodPassword },
        session.accessToken,
      ),
      400,
      'VALIDATION_FAILED',
    )
    problem(
      await post(
        pair.users,
        '/v1/users/me/email',
        { newEmail: 'not-an-address', password: goodPassword, role: 'admin' },
        session.accessToken,
      ),
      400,
      'VALIDATION_FAILED',
    )
  })
})
