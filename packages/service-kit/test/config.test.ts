import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import { ConfigError, parseDuration, parseEnv, parseList } from '../src/index.js'

const Schema = Type.Object({
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535 }),
  NAME: Type.String(),
  FLAG: Type.Boolean({ default: false }),
})

describe('parseEnv', () => {
  it('coerces strings, applies defaults and ignores process.env', () => {
    expect(parseEnv(Schema, { NAME: 'x', FLAG: 'true' })).toEqual({
      PORT: 3000,
      NAME: 'x',
      FLAG: true,
    })
    expect(parseEnv(Schema, { NAME: 'x', PORT: '8080' }).PORT).toBe(8080)
  })

  it('reports every problem in one clear message', () => {
    expect(() => parseEnv(Schema, { PORT: 'abc' })).toThrow(ConfigError)
    expect(() => parseEnv(Schema, { PORT: 'abc' })).toThrow(/Invalid configuration: .*NAME/)
  })

  it('treats empty strings as unset', () => {
    expect(parseEnv(Schema, { NAME: 'x', PORT: '' }).PORT).toBe(3000)
  })
})

describe('parseDuration', () => {
  it.each([
    ['15m', 900_000],
    ['30d', 2_592_000_000],
    ['900', 900_000],
    ['250ms', 250],
    ['2h', 7_200_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it('rejects nonsense', () => {
    expect(() => parseDuration('soon')).toThrow(ConfigError)
    expect(() => parseDuration('-5m')).toThrow(ConfigError)
  })
})

describe('parseList', () => {
  it('splits, trims and drops empties', () => {
    expect(parseList(' a, b ,,c ')).toEqual(['a', 'b', 'c'])
    expect(parseList(undefined)).toEqual([])
  })
})
