import { describe, expect, it } from 'vitest'
import { phcParameters } from '../src/phc.js'

describe('phcParameters', () => {
  it('reads the standard order that auth-api writes', () => {
    const hash =
      '$argon2id$v=19$m=19456,t=2,p=1$Us+42+7kYC6wVGwvHnbfww$2v1LeJPg5BLfYvKwK6ug/03AUIgAwJvbzHEUlNr0RIc'
    expect(phcParameters(hash)).toBe('argon2id m=19456,t=2,p=1')
  })

  it('reads the parameters in a fixed order, whatever order the string has', () => {
    const hash = '$argon2id$v=19$m=19456,p=1,t=2$Us+42+7kYC6wVGwvHnbfww$dxzA7srAaMMxvuDesUcvSD96I0'
    expect(phcParameters(hash)).toBe('argon2id m=19456,t=2,p=1')
    expect(phcParameters('$argon2i$v=19$t=3,m=4096,p=2$c2FsdA$aGFzaA')).toBe(
      'argon2i m=4096,t=3,p=2',
    )
  })

  it('refuses what is not an argon2 PHC string', () => {
    expect(phcParameters('$2b$10$abcdefghijklmnopqrstuv')).toBeNull()
    expect(phcParameters('')).toBeNull()
  })
})
