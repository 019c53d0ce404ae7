import { describe, expect, it } from 'vitest'
import { blocklistSize, normalizePassword, passwordProblem } from '../src/domain/password-policy.js'

const policy = { minLength: 15 }

describe('password policy', () => {
  it('ships a blocklist of at least 10,000 common passwords', () => {
    expect(blocklistSize()).toBeGreaterThanOrEqual(10_000)
  })

  it('measures length in code points after NFKC', () => {
    expect(passwordProblem('😀'.repeat(15), 'a@b.co', policy)).toBeUndefined()
    expect(passwordProblem('😀'.repeat(14), 'a@b.co', policy)).toMatch(/at least 15/)
    // U+FB01 (ﬁ) becomes "fi": 8 ligatures are 16 code points after NFKC.
    expect(passwordProblem('\ufb01'.repeat(8), 'a@b.co', policy)).toBeUndefined()
    expect(passwordProblem('x'.repeat(128), 'a@b.co', policy)).toBeUndefined()
    expect(passwordProblem('x'.repeat(129), 'a@b.co', policy)).toMatch(/at most 128/)
  })

  it('has no composition rules: spaces and lowercase-only phrases are fine', () => {
    expect(passwordProblem('just some lowercase words', 'a@b.co', policy)).toBeUndefined()
    expect(passwordProblem('               ', 'a@b.co', policy)).toBeUndefined()
  })

  it('refuses common passwords case-insensitively and the email itself', () => {
    const lenient = { minLength: 8 }
    expect(passwordProblem('Password1', 'a@b.co', lenient)).toMatch(/common/)
    expect(passwordProblem('ILOVEYOU', 'a@b.co', lenient)).toMatch(/common/)
    expect(passwordProblem('Someone@Example.com', 'someone@example.com', lenient)).toMatch(/email/)
  })

  it('normalises compatibility forms so either spelling logs in', () => {
    expect(normalizePassword('cafe\u0301')).toBe('caf\u00e9')
    expect(normalizePassword('\uff21\uff22')).toBe('AB')
  })
})
