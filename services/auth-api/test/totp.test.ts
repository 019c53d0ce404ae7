import { HOTP, Secret } from 'otpauth'
import { describe, expect, it } from 'vitest'
import { generateTotpKeyEntry } from '../src/crypto/totp-keys.js'
import { loadConfig } from '../src/config.js'
import { bearer, buildAuthApi } from './auth-api-harness.js'

interface Enrolled {
  secret: string
  otpauthUri: string
  ciphertext: string
}

/** What an authenticator app shows for the step holding `ms`. */
function codeFor(base32: string, ms: number): string {
  return HOTP.generate({ secret: Secret.fromBase32(base32), counter: Math.floor(ms / 30_000) })
}

describe('POST /v1/totp/*', () => {
  const clock = { ms: 1_780_000_000_000 }
  const now = () => clock.ms

  it('enrols, then verifies codes the secret gives, answering their step', async () => {
    const { app, logs } = await buildAuthApi({ now })
    const enrolled = await app.inject({
      method: 'POST',
      url: '/v1/totp/enroll',
      headers: bearer,
      payload: { accountName: 'ada@example.com', issuer: 'users-auth' },
    })
    expect(enrolled.statusCode).toBe(200)
    const body = enrolled.json<Enrolled>()
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(body.otpauthUri).toContain(`secret=${body.secret}`)
    expect(body.ciphertext).not.toContain(body.secret)
    const code = codeFor(body.secret, clock.ms)
    const verify = (payload: object) =>
      app.inject({ method: 'POST', url: '/v1/totp/verify', headers: bearer, payload })
    const ok = await verify({ ciphertext: body.ciphertext, code, afterStep: 0 })
    expect(ok.json()).toEqual({ valid: true, step: Math.floor(clock.ms / 30_000) })
    const replay = await verify({
      ciphertext: body.ciphertext,
      code,
      afterStep: Math.floor(clock.ms / 30_000),
    })
    expect(replay.json()).toEqual({ valid: false, step: null })
    const wrong = code === '000000' ? '111111' : '000000'
    const bad = await verify({ ciphertext: body.ciphertext, code: wrong, afterStep: 0 })
    expect(bad.json()).toEqual({ valid: false, step: null })
    await app.close()
    expect(logs()).not.toContain(body.secret)
    expect(logs()).not.toContain(body.ciphertext)
    expect(logs()).not.toContain(code)
  })

  it('re-encrypts a secret sealed under an older key when it is used', async () => {
    const oldKey = generateTotpKeyEntry('old')
    const newKey = generateTotpKeyEntry('new')
    const before = await buildAuthApi({ now, env: { TOTP_ENCRYPTION_KEYS: oldKey } })
    const enrolled = (
      await before.app.inject({
        method: 'POST',
        url: '/v1/totp/enroll',
        headers: bearer,
        payload: { accountName: 'bo@example.com', issuer: 'users-auth' },
      })
    ).json<Enrolled>()
    await before.app.close()
    expect(enrolled.ciphertext.startsWith('v1.old.')).toBe(true)

    const after = await buildAuthApi({ now, env: { TOTP_ENCRYPTION_KEYS: `${newKey},${oldKey}` } })
    const verify = (payload: object) =>
      after.app.inject({ method: 'POST', url: '/v1/totp/verify', headers: bearer, payload })
    const res = await verify({
      ciphertext: enrolled.ciphertext,
      code: codeFor(enrolled.secret, clock.ms),
      afterStep: 0,
    })
    const answer = res.json<{ valid: boolean; ciphertext?: string }>()
    expect(answer.valid).toBe(true)
    expect(answer.ciphertext?.startsWith('v1.new.')).toBe(true)
    // The new ciphertext holds the same secret, and needs no further re-encryption.
    clock.ms += 30_000
    const again = await verify({
      ciphertext: answer.ciphertext,
      code: codeFor(enrolled.secret, clock.ms),
      afterStep: 0,
    })
    expect(again.json()).toEqual({ valid: true, step: Math.floor(clock.ms / 30_000) })
    // New enrolments use the new key.
    const fresh = await after.app.inject({
      method: 'POST',
      url: '/v1/totp/enroll',
      headers: bearer,
      payload: { accountName: 'cy@example.com', issuer: 'users-auth' },
    })
    expect(fresh.json<Enrolled>().ciphertext.startsWith('v1.new.')).toBe(true)
    // A ciphertext no configured key opens is a 400, not a 500.
    const foreign = await verify({
      ciphertext: 'v1.gone.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAA',
      code: '123456',
      afterStep: 0,
    })
    expect(foreign.statusCode).toBe(400)
    await after.app.close()
  })

  it('requires the service credential and well-formed input', async () => {
    const { app } = await buildAuthApi({ now })
    const noCredential = await app.inject({
      method: 'POST',
      url: '/v1/totp/enroll',
      payload: { accountName: 'a@example.com', issuer: 'x' },
    })
    expect(noCredential.statusCode).toBe(401)
    const badCode = await app.inject({
      method: 'POST',
      url: '/v1/totp/verify',
      headers: bearer,
      payload: { ciphertext: 'v1.k.AAAA.AAAA', code: '12345a', afterStep: 0 },
    })
    expect(badCode.statusCode).toBe(400)
    await app.close()
  })

  it('refuses to start in production without TOTP_ENCRYPTION_KEYS', () => {
    const production = {
      NODE_ENV: 'production',
      INTERNAL_API_TOKEN: 'x'.repeat(32),
      JWT_PRIVATE_KEYS: '{"keys":[]}',
    }
    expect(() => loadConfig(production)).toThrow(/TOTP_ENCRYPTION_KEYS is required/)
    expect(() =>
      loadConfig({ ...production, TOTP_ENCRYPTION_KEYS: generateTotpKeyEntry() }),
    ).not.toThrow()
  })
})
