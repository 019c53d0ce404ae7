import { describe, expect, it } from 'vitest'
import { repeatedKeyPath } from '../src/json-body.js'

describe('repeatedKeyPath', () => {
  it.each([
    ['{"a":1,"a":2}', '/a'],
    ['{"password":"p1","email":"e","password":"p2"}', '/password'],
    ['{"a":{"b":1,"b":2}}', '/a/b'],
    ['{"list":[{"x":1},{"x":1,"x":2}]}', '/list/1/x'],
    ['{"a":1,"\\u0061":2}', '/a'],
    ['{"a/b":1,"a/b":2}', '/a~1b'],
    ['[{"k":1,"k":1}]', '/0/k'],
  ])('finds the repeated key in %s', (text, path) => {
    expect(repeatedKeyPath(text)).toBe(path)
  })

  it.each([
    '{"a":1,"b":{"a":2}}',
    '[{"a":1},{"a":2}]',
    '{"a":"\\"a\\":1","b":"a"}',
    '{"a":["a","a"]}',
    '"just a string"',
    '{"a":',
    '',
  ])('accepts %s (or leaves invalid JSON to the parser)', (text) => {
    expect(repeatedKeyPath(text)).toBeUndefined()
  })
})
