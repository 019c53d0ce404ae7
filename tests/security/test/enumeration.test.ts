import { beforeAll, describe, expect, inject, it } from 'vitest'
import { usersApi, type Account } from '../src/api.js'
import { claimsOf } from '../src/forge.js'
import { client, expectProblem, withoutTraceId, type Response } from '../src/http.js'
import { newEmail, newPassword } from '../src/pair.js'

// Account enumeration (ASVS 2.2/3.x, OWASP WSTG-IDNT-04): apart from signup's 409, which the
// contract requires and throttling bounds, no answer tells whether an account exists.

const pair = inject('pair')
const api = usersApi(pair)
let known: Account

beforeAll(async () => {
  known = await api.signup('enum-known')
})

/** Status, the headers a client could compare, and the body without its trace id. */
function fingerprint(res: Response) {
  const headers = Object.keys(res.headers)
    .filter(
      (h) => !['date', 'x-request-id', 'x-ratelimit-remaining', 'x-ratelimit-reset'].includes(h),
    )
    .sort()
  const body = res.headers['content-type']?.includes('json') ? withoutTraceId(res.json()) : res.text
  return {
    status: res.status,
    headers,
    contentLength: res.headers['content-length'],
    body,
  }
}

async function verifyCount(): Promise<number> {
  const metrics = (await client(pair.authUrl).get('/metrics')).text
  const line = metrics
    .split('\n')
    .find((l) => l.startsWith('auth_password_job_duration_seconds_count{operation="verify"}'))
  return Number(line?.split(' ').at(-1) ?? 0)
}

describe('login', () => {
  it('answers an unknown email exactly like a wrong password', async () => {
    const variants = [
      { email: newEmail('enum-nobody'), password: known.password },
      { email: known.email, password: `${known.password}x` },
      { email: ` ${known.email.toUpperCase()} `, password: 'wrong password entirely' },
      { email: newEmail('enum-nobody'), password: 'x' },
      { email: known.email, password: 'x' },
    ]
    const answers = []
    for (const body of variants) {
      const res = await api.post('/v1/auth/login', body)
      expectProblem(res, 401, 'INVALID_CREDENTIALS')
      answers.push(fingerprint(res))
    }
    for (const answer of answers) expect(answer).toEqual(answers[0])
  })

  it('runs argon2 in auth-api for unknown emails too (no timing shortcut)', async () => {
    const before = await verifyCount()
    for (let i = 0; i < 3; i++) {
      await api.post('/v1/auth/login', { email: newEmail('enum-ghost'), password: 'whatever' })
    }
    // Concurrent test files may verify too: at least one verify per unknown-email login.
    expect((await verifyCount()) - before).toBeGreaterThanOrEqual(3)
  })

  it('does not apply the new-password policy to login (no hint about the stored one)', async () => {
    // A fresh account: failures stay below the lockout threshold.
    const account = await api.signup('enum-policy')
    for (const password of ['short', 'password', account.email]) {
      const res = await api.post('/v1/auth/login', { email: account.email, password })
      expectProblem(res, 401, 'INVALID_CREDENTIALS')
    }
  })
})

describe('refresh', () => {
  it('answers an unknown session exactly like a known session with a wrong secret', async () => {
    const [sid = ''] = known.session.refreshToken.split('.')
    const secret = 'B'.repeat(43)
    const unknown = await api.post('/v1/auth/refresh', {
      refreshToken: `${crypto.randomUUID()}.${secret}`,
    })
    const wrong = await api.post('/v1/auth/refresh', { refreshToken: `${sid}.${secret}` })
    const garbage = await api.post('/v1/auth/refresh', { refreshToken: 'not-a-token' })
    expectProblem(unknown, 401, 'REFRESH_TOKEN_INVALID')
    expect(fingerprint(wrong)).toEqual(fingerprint(unknown))
    expect(fingerprint(garbage)).toEqual(fingerprint(unknown))
  })
})

describe('ids', () => {
  it('answers a session id of another user exactly like one that never existed', async () => {
    const other = await api.signup('enum-other')
    const foreign = await api.delete(
      `/v1/users/me/sessions/${String(claimsOf(other.session.accessToken).sid)}`,
      undefined,
      known.session.accessToken,
    )
    const missing = await api.delete(
      `/v1/users/me/sessions/${crypto.randomUUID()}`,
      undefined,
      known.session.accessToken,
    )
    expectProblem(foreign, 404, 'NOT_FOUND')
    expect(fingerprint(foreign)).toEqual(fingerprint(missing))
  })
})

describe('signup', () => {
  it('says only EMAIL_TAKEN for an existing email, however it is spelt, and reveals nothing else', async () => {
    for (const email of [known.email, known.email.toUpperCase(), `  ${known.email}  `]) {
      const res = await api.post('/v1/auth/signup', { email, password: newPassword() })
      const problem = expectProblem(res, 409, 'EMAIL_TAKEN')
      expect(res.text).not.toContain(known.session.user.id)
      expect(problem.detail).not.toContain(known.email)
    }
  })

  it('applies the password policy before looking at the email (policy errors do not enumerate)', async () => {
    const taken = await api.post('/v1/auth/signup', { email: known.email, password: 'short' })
    const free = await api.post('/v1/auth/signup', {
      email: newEmail('enum-free'),
      password: 'short',
    })
    expectProblem(taken, 400, 'VALIDATION_FAILED')
    expect(fingerprint(taken)).toEqual(fingerprint(free))
  })
})
