import { describe, expect, it } from 'vitest'
import {
  get,
  goodPassword,
  login,
  post,
  problem,
  signup,
  startPair,
  type SessionBody,
} from './pair-harness.js'
import { tokenFrom } from './mail-server.js'

const verifySubject = /Verify your email address/

describe('email verification', () => {
  it('mails a link at signup; the token from the mail verifies the address once', async () => {
    const pair = await startPair({ usersEnv: { APP_URL: 'https://app.example.test' } })
    const res = await pair.users.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: 'vera@example.com', password: goodPassword },
      headers: { 'user-agent': 'Tester/1.0 <b>bold</b>' },
    })
    expect(res.statusCode).toBe(201)
    const session = res.json<SessionBody & { user: { emailVerified: boolean } }>()
    expect(session.user.emailVerified).toBe(false)

    const mail = await pair.mail.mailTo('vera@example.com', verifySubject)
    expect(mail.from).toBe('no-reply@localhost')
    expect(mail.text).toMatch(/https:\/\/app\.example\.test\/verify-email#token=[\w-]{43}\n/)
    // Who asked, and what to do if it was not them; in the HTML too, escaped.
    expect(mail.text).toContain('Tester/1.0 <b>bold</b>')
    expect(mail.text).toMatch(/From IP address: 127\.0\.0\.1/)
    expect(mail.text).toMatch(/Requested at: \d{4}-\d\d-\d\dT/)
    expect(mail.text).toMatch(/If you did not create an account/)
    expect(mail.html).toContain('Tester/1.0 &lt;b&gt;bold&lt;/b&gt;')
    expect(mail.html).not.toContain('<b>bold</b>')
    expect(mail.html).not.toMatch(/<img/i)
    const token = tokenFrom(mail, 'verify-email')

    // The token is stored only as a hash.
    const stored = await pair.db.collection('mail_tokens').find({}).toArray()
    expect(stored).toHaveLength(1)
    expect(JSON.stringify(stored)).not.toContain(token)

    const verified = await post(pair.users, '/v1/auth/email/verify', { token })
    expect(verified.statusCode).toBe(200)
    expect(verified.json()).toMatchObject({ email: 'vera@example.com', emailVerified: true })
    const me = await get(pair.users, '/v1/users/me', session.accessToken)
    expect(me.json()).toMatchObject({ emailVerified: true })
    problem(await post(pair.users, '/v1/auth/email/verify', { token }), 400, 'INVALID_TOKEN')

    const events = await pair.db
      .collection('audit_events')
      .find({ event: 'email.verify' })
      .toArray()
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ outcome: 'success', userId: expect.anything() as unknown })
    expect(JSON.stringify(events)).not.toContain(token)
  })

  it('resends on request, voiding the older link, and sends nothing once verified', async () => {
    const pair = await startPair()
    const session = await signup(pair.users, 'resend@example.com')
    const first = tokenFrom(
      await pair.mail.mailTo('resend@example.com', verifySubject),
      'verify-email',
    )
    const res = await post(pair.users, '/v1/auth/email/verify/send', undefined, session.accessToken)
    expect(res.statusCode).toBe(202)
    const second = tokenFrom(
      await pair.mail.mailTo('resend@example.com', verifySubject),
      'verify-email',
    )
    expect(second).not.toBe(first)
    problem(await post(pair.users, '/v1/auth/email/verify', { token: first }), 400, 'INVALID_TOKEN')
    expect((await post(pair.users, '/v1/auth/email/verify', { token: second })).statusCode).toBe(
      200,
    )
    const before = pair.mail.received.length
    const again = await post(
      pair.users,
      '/v1/auth/email/verify/send',
      undefined,
      session.accessToken,
    )
    expect(again.statusCode).toBe(202)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(pair.mail.received.length).toBe(before)
    problem(await post(pair.users, '/v1/auth/email/verify/send', undefined), 401, 'UNAUTHORIZED')
  })

  it('lets exactly one of concurrent uses of one token win', async () => {
    const pair = await startPair()
    await signup(pair.users, 'race@example.com')
    const token = tokenFrom(
      await pair.mail.mailTo('race@example.com', verifySubject),
      'verify-email',
    )
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post(pair.users, '/v1/auth/email/verify', { token })),
    )
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, ...Array<number>(9).fill(400)])
  })

  it('refuses an expired token (24 h, injected clock) and one for another purpose', async () => {
    let offsetMs = 0
    const pair = await startPair({ now: () => new Date(Date.now() + offsetMs) })
    await signup(pair.users, 'late@example.com')
    const token = tokenFrom(
      await pair.mail.mailTo('late@example.com', verifySubject),
      'verify-email',
    )
    // A verification token is no reset token and no email-change token.
    problem(
      await post(pair.users, '/v1/auth/password/reset', {
        token,
        newPassword: 'another quite long passphrase 42',
      }),
      400,
      'INVALID_TOKEN',
    )
    problem(
      await post(pair.users, '/v1/auth/email/change/confirm', { token }),
      400,
      'INVALID_TOKEN',
    )
    offsetMs = 24 * 60 * 60_000 + 1000
    problem(await post(pair.users, '/v1/auth/email/verify', { token }), 400, 'INVALID_TOKEN')
  })

  it('accepts a token just before its 24 h run out', async () => {
    let offsetMs = 0
    const pair = await startPair({ now: () => new Date(Date.now() + offsetMs) })
    await signup(pair.users, 'intime@example.com')
    const token = tokenFrom(
      await pair.mail.mailTo('intime@example.com', verifySubject),
      'verify-email',
    )
    offsetMs = 24 * 60 * 60_000 - 60_000
    expect((await post(pair.users, '/v1/auth/email/verify', { token })).statusCode).toBe(200)
  })

  it('refuses malformed tokens with 400 VALIDATION_FAILED', async () => {
    const pair = await startPair()
    for (const token of ['short', 'x'.repeat(44), '$'.repeat(43), { $ne: null }]) {
      problem(await post(pair.users, '/v1/auth/email/verify', { token }), 400, 'VALIDATION_FAILED')
    }
  })

  it('mails an address at most 5 times an hour, silently', async () => {
    let offsetMs = 0
    const pair = await startPair({ now: () => new Date(Date.now() + offsetMs) })
    const session = await signup(pair.users, 'budget@example.com')
    for (let i = 0; i < 7; i++) {
      const res = await post(
        pair.users,
        '/v1/auth/email/verify/send',
        undefined,
        session.accessToken,
      )
      expect(res.statusCode).toBe(202)
    }
    await pair.mail.waitFor(
      () => pair.mail.received.filter((m) => m.to.includes('budget@example.com')).length >= 5,
    )
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(pair.mail.received.filter((m) => m.to.includes('budget@example.com'))).toHaveLength(5)
    offsetMs = 60 * 60_000 + 1000
    await post(pair.users, '/v1/auth/email/verify/send', undefined, session.accessToken)
    await pair.mail.waitFor(
      () => pair.mail.received.filter((m) => m.to.includes('budget@example.com')).length >= 6,
    )
  })
})

describe('signup answers', () => {
  it('201 for any address the request schema accepts, in both shapes', async () => {
    // Not a valid `email` format, yet accepted by the request pattern: the answer must not 500.
    const odd = 'c}3foh~r=rs0@d.-&e1myj.}i2se./0zyg.q'
    for (const require of ['false', 'true']) {
      const pair = await startPair({ usersEnv: { REQUIRE_EMAIL_VERIFICATION: require } })
      const res = await post(pair.users, '/v1/auth/signup', {
        email: odd,
        password: goodPassword,
      })
      expect(res.statusCode, res.body).toBe(201)
      expect(res.json<{ user: { email: string } }>().user.email).toBe(odd)
      await pair.close()
    }
  })

  it('refuses address syntax a mail library would read as another recipient', async () => {
    const pair = await startPair()
    for (const email of ['x<other@example.com>', 'other@example.com,x', 'a,other@example.com']) {
      const res = await post(pair.users, '/v1/auth/signup', { email, password: goodPassword })
      problem(res, 400, 'VALIDATION_FAILED')
    }
    expect(await pair.db.collection('users').countDocuments()).toBe(0)
  })
})

describe('REQUIRE_EMAIL_VERIFICATION=true', () => {
  it('signs up without tokens and refuses login until the address is verified', async () => {
    const pair = await startPair({ usersEnv: { REQUIRE_EMAIL_VERIFICATION: 'true' } })
    const res = await post(pair.users, '/v1/auth/signup', {
      email: 'strict@example.com',
      password: goodPassword,
    })
    expect(res.statusCode).toBe(201)
    const body = res.json<Record<string, unknown>>()
    expect(Object.keys(body)).toEqual(['user'])
    expect(res.headers.location).toMatch(/^\/v1\/users\/[0-9a-f]{24}$/)
    expect(await pair.db.collection('sessions').countDocuments()).toBe(0)

    // A wrong password learns nothing; only the right one hears about verification.
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'strict@example.com',
        password: 'wrong wrong wrong wrong',
      }),
      401,
      'INVALID_CREDENTIALS',
    )
    problem(
      await post(pair.users, '/v1/auth/login', {
        email: 'strict@example.com',
        password: goodPassword,
      }),
      403,
      'EMAIL_NOT_VERIFIED',
    )
    expect(await pair.db.collection('sessions').countDocuments()).toBe(0)

    const token = tokenFrom(
      await pair.mail.mailTo('strict@example.com', verifySubject),
      'verify-email',
    )
    expect((await post(pair.users, '/v1/auth/email/verify', { token })).statusCode).toBe(200)
    const session = await login(pair.users, 'strict@example.com')
    expect(session.accessToken).toBeTruthy()
  })
})
