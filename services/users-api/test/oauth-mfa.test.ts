import { describe, expect, it } from 'vitest'
import { claimsOf, totpCode } from './mfa-harness.js'
import {
  deliverCallback,
  exchange,
  fragment,
  socialLogin,
  startLogin,
  startWithOidcProvider,
} from './oauth-harness.js'
import { post, problem, type SessionBody } from './pair-harness.js'

const carol = { email: 'carol@example.com', email_verified: true, name: 'Carol' }

describe('social login of an account with a second factor', () => {
  it('ends in MFA_REQUIRED at the code exchange, and a code completes it with fed, otp and mfa', async () => {
    const social = await startWithOidcProvider()
    social.idp.accounts.set('carol-sub', carol)
    const app = social.pair.users

    // An account made by social login alone enrols without a password.
    const first = await socialLogin(social, 'carol-sub')
    expect(first.user).toMatchObject({ hasPassword: false })
    const enrol = await post(app, '/v1/users/me/mfa/totp', {}, first.accessToken)
    expect(enrol.statusCode, enrol.body).toBe(200)
    const { secret } = enrol.json<{ secret: string }>()
    const confirm = await post(
      app,
      '/v1/users/me/mfa/totp/confirm',
      { code: totpCode(secret, Date.now()) },
      first.accessToken,
    )
    expect(confirm.statusCode, confirm.body).toBe(200)

    const back = await deliverCallback(
      await social.idp.authorize(await startLogin(social), 'carol-sub'),
      social.browser,
    )
    const { code } = fragment(back)
    expect(code, back.href).toBeDefined()
    const answer = await exchange(social, code ?? '')
    expect(answer.status).toBe(401)
    const body = (await answer.json()) as { code: string; mfaToken?: string; accessToken?: string }
    expect(body.code).toBe('MFA_REQUIRED')
    expect(body.accessToken).toBeUndefined()
    expect(body.mfaToken).toMatch(/^[A-Za-z0-9_-]{43}$/)

    // The next step's code: later than the step the confirmation used, and inside the window.
    const verified = await post(app, '/v1/auth/mfa/verify', {
      mfaToken: body.mfaToken,
      code: totpCode(secret, Date.now() + 30_000),
    })
    expect(verified.statusCode, verified.body).toBe(200)
    const session = verified.json<SessionBody>()
    expect(claimsOf(session.accessToken).amr).toEqual(['fed', 'otp', 'mfa'])

    // The exchange code was single use: presenting it again starts nothing.
    problem(await post(app, '/v1/auth/oauth/token', { code: code ?? '' }), 400, 'INVALID_TOKEN')
  })
})
