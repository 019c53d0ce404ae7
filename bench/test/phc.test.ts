import { describe, expect, it } from 'vitest'
import { argon2idParams } from '../src/phc.js'

describe('argon2idParams', () => {
  it('reads the costs whatever their order', () => {
    const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
    const standard =
      '$argon2id$v=19$m=19456,t=2,p=1$Us+42+7kYC6wVGwvHnbfww$2v1LeJPg5BLfYvKwK6ug/03AUIgAwJvbzHEUlNr0RIc'
    expect(argon2idParams(standard)).toEqual(params)
    expect(argon2idParams('$argon2id$v=19$p=1,m=19456,t=2$c2FsdA$aGFzaA')).toEqual(params)
  })

  it('refuses other variants, other schemes and incomplete parameters', () => {
    expect(argon2idParams('$argon2i$v=19$m=4096,t=3,p=2$c2FsdA$aGFzaA')).toBeNull()
    expect(argon2idParams('$2b$10$abcdefghijklmnopqrstuv')).toBeNull()
    expect(argon2idParams('$argon2id$v=19$m=4096,t=3$c2FsdA$aGFzaA')).toBeNull()
    expect(argon2idParams('')).toBeNull()
  })
})
