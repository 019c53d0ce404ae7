import { describe, expect, it } from 'vitest'
import { codeAt, enrolment, matchingStep, stepAt } from '../../src/crypto/totp.js'
import {
  generateTotpKeyEntry,
  parseTotpKeys,
  TotpCipher,
  UnreadableCiphertextError,
} from '../../src/crypto/totp-keys.js'

// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII key "12345678901234567890". The codes
// there have 8 digits; a 6-digit code is the same truncated value modulo 10^6.
const rfcSecret = Buffer.from('12345678901234567890', 'ascii')
const rfcVectors: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
]

describe('TOTP (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  it.each(rfcVectors)('matches the RFC vector at T=%i', (seconds, eightDigits) => {
    const step = stepAt(seconds * 1000)
    expect(step).toBe(Math.floor(seconds / 30))
    expect(codeAt(rfcSecret, step)).toBe(eightDigits.slice(-6))
    expect(matchingStep(rfcSecret, eightDigits.slice(-6), seconds * 1000, -1)).toBe(step)
  })

  it('accepts the previous and next step, nothing further', () => {
    const now = 1_234_567_890_000
    const step = stepAt(now)
    for (const delta of [-1, 0, 1])
      expect(matchingStep(rfcSecret, codeAt(rfcSecret, step + delta), now, -1)).toBe(step + delta)
    for (const delta of [-3, -2, 2, 3])
      expect(matchingStep(rfcSecret, codeAt(rfcSecret, step + delta), now, -1)).toBeNull()
  })

  it('refuses a step at or before the last accepted one (no replay)', () => {
    const now = 1_234_567_890_000
    const step = stepAt(now)
    const code = codeAt(rfcSecret, step)
    expect(matchingStep(rfcSecret, code, now, step - 1)).toBe(step)
    expect(matchingStep(rfcSecret, code, now, step)).toBeNull()
    expect(matchingStep(rfcSecret, code, now, step + 1)).toBeNull()
  })

  it('refuses malformed and wrong codes', () => {
    const now = 1_234_567_890_000
    for (const code of ['', '12345', '1234567', 'abcdef', '000000'])
      expect(matchingStep(rfcSecret, code, now, -1)).toBeNull()
  })

  it('gives a QR-ready otpauth URI for the secret', () => {
    const { base32, uri } = enrolment(rfcSecret, 'users-auth', 'ada@example.com')
    expect(base32).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    const url = new URL(uri)
    expect(url.protocol).toBe('otpauth:')
    expect(url.host).toBe('totp')
    expect(decodeURIComponent(url.pathname)).toBe('/users-auth:ada@example.com')
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      secret: base32,
      issuer: 'users-auth',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    })
  })
})

describe('TOTP_ENCRYPTION_KEYS', () => {
  const secret = Buffer.from('a secret of twenty b')

  it('seals with the first key and opens with any key of the list', () => {
    const oldKey = generateTotpKeyEntry('old')
    const newKey = generateTotpKeyEntry('new')
    const before = new TotpCipher(parseTotpKeys(oldKey))
    const sealed = before.encrypt(secret)
    expect(sealed.startsWith('v1.old.')).toBe(true)
    expect(sealed).not.toContain(secret.toString('base64url'))
    const rotated = new TotpCipher(parseTotpKeys(`${newKey},${oldKey}`))
    expect(rotated.decrypt(sealed)).toEqual({ plain: secret, keyId: 'old' })
    expect(rotated.encrypt(secret).startsWith('v1.new.')).toBe(true)
    // Without the old key the old ciphertext is unreadable.
    expect(() => new TotpCipher(parseTotpKeys(newKey)).decrypt(sealed)).toThrow(
      UnreadableCiphertextError,
    )
  })

  it('refuses a tampered or relabelled ciphertext', () => {
    const a = generateTotpKeyEntry('a')
    const b = generateTotpKeyEntry('b')
    const cipher = new TotpCipher(parseTotpKeys(`${a},${b}`))
    const sealed = cipher.encrypt(secret)
    const parts = sealed.split('.')
    const flipped = Buffer.from(parts[3] ?? '', 'base64url')
    flipped[0] = (flipped[0] ?? 0) ^ 1
    const tampered = [...parts.slice(0, 3), flipped.toString('base64url')].join('.')
    expect(() => cipher.decrypt(tampered)).toThrow(UnreadableCiphertextError)
    expect(() => cipher.decrypt(sealed.replace('v1.a.', 'v1.b.'))).toThrow(
      UnreadableCiphertextError,
    )
    for (const junk of ['', 'v1', 'v2.a.x.y', `${sealed}.extra`, 'v1.a..'])
      expect(() => cipher.decrypt(junk)).toThrow(UnreadableCiphertextError)
  })

  it('refuses a malformed key list with a clear message', () => {
    expect(() => parseTotpKeys('')).toThrow(/no keys/)
    expect(() => parseTotpKeys('nokey')).toThrow(/id:base64key/)
    expect(() => parseTotpKeys('k1:c2hvcnQ=')).toThrow(/k1 is not 32 bytes/)
    const entry = generateTotpKeyEntry('k1')
    expect(() => parseTotpKeys(`${entry},${entry}`)).toThrow(/duplicate/)
  })
})
