import { describe, expect, it } from 'vitest'
import {
  costLimits,
  needsRehash,
  readStoredHash,
  UnusableHashError,
} from '../../src/crypto/stored-hash.js'

const configured = { memoryCost: 19456, timeCost: 2, parallelism: 1 }
const salt = 'c29tZXNhbHRzb21lc2FsdA'
const digest = 'RAME85Nb8CxpfIy5Ca0XN5R2weN/7wRhxgF0shgwz70'

function phc(params: string, head = '$argon2id$v=19'): string {
  return `${head}$${params}$${salt}$${digest}`
}

const read = (hash: string) => readStoredHash(hash, costLimits(configured))

describe('readStoredHash', () => {
  it('reads the standard order and the order argon2 0.45 wrote', () => {
    expect(read(phc('m=19456,t=2,p=1'))).toEqual({
      variant: 'argon2id',
      version: 19,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      standardOrder: true,
    })
    expect(read(phc('m=19456,p=1,t=2'))).toMatchObject({
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
      standardOrder: false,
    })
    expect(read(phc('m=1024,t=1,p=1', '$argon2i$v=16'))).toMatchObject({
      variant: 'argon2i',
      version: 16,
    })
  })

  it.each([
    ['another scheme', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
    ['no version', `$argon2id$m=1024,t=1,p=1$${salt}$${digest}`],
    ['an unknown version', phc('m=1024,t=1,p=1', '$argon2id$v=18')],
    ['a missing parameter', phc('m=1024,t=1')],
    ['a repeated parameter', phc('m=1024,t=1,p=1,m=2048')],
    ['an extra parameter', phc('m=1024,t=1,p=1,data=c29tZQ')],
    ['another order', phc('t=1,m=1024,p=1')],
    ['a leading zero', phc('m=01024,t=1,p=1')],
    ['zero time', phc('m=1024,t=0,p=1')],
    ['too little memory for its lanes', phc('m=16,t=1,p=4')],
    ['a short salt', `$argon2id$v=19$m=1024,t=1,p=1$c29tZQ$${digest}`],
    ['a short digest', `$argon2id$v=19$m=1024,t=1,p=1$${salt}$RAME85Nb`],
    ['padding', `$argon2id$v=19$m=1024,t=1,p=1$${salt}=$${digest}`],
    ['no digest', `$argon2id$v=19$m=1024,t=1,p=1$${salt}`],
    ['a trailing field', `${phc('m=1024,t=1,p=1')}$`],
    ['a huge number', phc('m=99999999999,t=1,p=1')],
  ])('refuses %s', (_name, hash) => {
    expect(() => read(hash)).toThrow(UnusableHashError)
  })
})

describe('costLimits', () => {
  it('allows four times each configured cost', () => {
    expect(costLimits(configured)).toEqual({ memoryCost: 77824, timeCost: 8, parallelism: 4 })
  })

  it.each([
    ['memory', 'm=77824,t=2,p=1', 'm=77825,t=2,p=1'],
    ['time', 'm=19456,t=8,p=1', 'm=19456,t=9,p=1'],
    ['parallelism', 'm=19456,t=2,p=4', 'm=19456,t=2,p=5'],
    ['memory in the old order', 'm=77824,p=1,t=2', 'm=77825,p=1,t=2'],
  ])('reads %s at the limit and refuses it one above', (_name, inside, outside) => {
    expect(() => read(phc(inside))).not.toThrow()
    expect(() => read(phc(outside))).toThrow(/beyond the configured bounds/)
  })
})

describe('needsRehash', () => {
  const current = (params: string, head?: string) =>
    needsRehash(read(phc(params, head)), configured)

  it('is false only for argon2id v19 in the standard order with the configured costs', () => {
    expect(current('m=19456,t=2,p=1')).toBe(false)
    expect(current('m=19456,p=1,t=2')).toBe(true)
    expect(current('m=19456,t=2,p=1', '$argon2i$v=19')).toBe(true)
    expect(current('m=19456,t=2,p=1', '$argon2id$v=16')).toBe(true)
    expect(current('m=19456,t=3,p=1')).toBe(true)
    expect(current('m=65536,t=2,p=1')).toBe(true)
    expect(current('m=19456,t=2,p=2')).toBe(true)
  })
})
