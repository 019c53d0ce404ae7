import { HOTP, Secret } from 'otpauth'
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import { goodPassword, post, problem, signup, type SessionBody } from './pair-harness.js'

/**
 * A clock both services share in these tests, moved by hand. It starts at the beginning of the
 * current 30-second step, near the real time: the JWT library checks a token's expiry against
 * the real clock, whatever the services are told.
 */
export function testClock(start = Math.floor(Date.now() / 30_000) * 30_000) {
  const clock = {
    ms: start,
    users: () => new Date(clock.ms),
    auth: () => clock.ms,
    /** On to the next 30-second TOTP step. */
    nextStep: () => {
      clock.ms += 30_000
    },
  }
  return clock
}

/** What an authenticator app shows at `ms` for the base32 secret (computed independently). */
export function totpCode(secret: string, ms: number): string {
  return HOTP.generate({
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    counter: Math.floor(ms / 30_000),
  })
}

/** A code the secret does not give now, nor in the steps beside now. */
export function wrongCode(secret: string, ms: number): string {
  const near = new Set([-1, 0, 1].map((d) => totpCode(secret, ms + d * 30_000)))
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0')
    if (!near.has(code)) return code
  }
}

export interface Enrolled {
  session: SessionBody
  email: string
  secret: string
  otpauthUri: string
  recoveryCodes: string[]
}

/** Signs up and turns TOTP on, confirming with the code of the current step. */
export async function enrolledAccount(
  app: FastifyInstance,
  email: string,
  clock: { ms: number; nextStep: () => void },
): Promise<Enrolled> {
  const session = await signup(app, email)
  const enrol = await post(
    app,
    '/v1/users/me/mfa/totp',
    { password: goodPassword },
    session.accessToken,
  )
  expect(enrol.statusCode, enrol.body).toBe(200)
  const { secret, otpauthUri } = enrol.json<{ secret: string; otpauthUri: string }>()
  const confirm = await post(
    app,
    '/v1/users/me/mfa/totp/confirm',
    { code: totpCode(secret, clock.ms) },
    session.accessToken,
  )
  expect(confirm.statusCode, confirm.body).toBe(200)
  // The next code used must be of a later step (no replay).
  clock.nextStep()
  return {
    session,
    email,
    secret,
    otpauthUri,
    recoveryCodes: confirm.json<{ recoveryCodes: string[] }>().recoveryCodes,
  }
}

/** Logs in with the right password and returns the mfaToken of the MFA_REQUIRED answer. */
export async function mfaToken(app: FastifyInstance, email: string): Promise<string> {
  const res = await post(app, '/v1/auth/login', { email, password: goodPassword })
  const body = problem(res, 401, 'MFA_REQUIRED')
  expect(body.mfaToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
  return body.mfaToken as string
}

export function claimsOf(accessToken: string): Record<string, unknown> {
  const [, payload = ''] = accessToken.split('.')
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
}
