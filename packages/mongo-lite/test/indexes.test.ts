import { ObjectId } from 'bson'
import { describe, expect, it } from 'vitest'
import { duplicateKeyMessage, Index, normalizeIndexSpec } from '../src/indexes.js'

function uniqueIndex(raw: Record<string, unknown>): Index {
  return new Index(normalizeIndexSpec({ unique: true, ...raw }))
}

/** Adds documents one by one; returns the keyValue of the first duplicate, if any. */
function firstDuplicate(index: Index, documents: Record<string, unknown>[]): unknown {
  for (const [i, document] of documents.entries()) {
    const duplicate = index.check(document, String(i))
    if (duplicate) return duplicate.keyValue
    index.add(document, String(i))
  }
  return undefined
}

describe('unique index', () => {
  it('treats a missing field as null, so two documents without it collide', () => {
    const index = uniqueIndex({ key: { email: 1 } })
    expect(firstDuplicate(index, [{ name: 'a' }, { email: null }])).toEqual({ email: null })
  })

  it('skips documents without the field when sparse', () => {
    const index = uniqueIndex({ key: { email: 1 }, sparse: true })
    expect(firstDuplicate(index, [{}, {}, { email: 'a' }])).toBeUndefined()
  })

  it('compares compound keys as a whole', () => {
    const index = uniqueIndex({ key: { tenant: 1, email: 1 } })
    const documents = [
      { tenant: 1, email: 'a' },
      { tenant: 2, email: 'a' },
      { tenant: 1, email: 'a' },
    ]
    expect(firstDuplicate(index, documents)).toEqual({ tenant: 1, email: 'a' })
  })

  it('only covers documents matching its partial filter', () => {
    const index = uniqueIndex({
      key: { email: 1 },
      partialFilterExpression: { deleted: { $eq: false } },
    })
    const documents = [
      { email: 'a', deleted: true },
      { email: 'a', deleted: false },
      { email: 'a', deleted: true },
    ]
    expect(firstDuplicate(index, documents)).toBeUndefined()
    expect(firstDuplicate(index, [{ email: 'a', deleted: false }])).toEqual({ email: 'a' })
  })

  it('indexes each element of an array', () => {
    const index = uniqueIndex({ key: { tags: 1 } })
    expect(firstDuplicate(index, [{ tags: ['a', 'b'] }, { tags: ['c', 'b'] }])).toEqual({
      tags: 'b',
    })
  })

  it('ignores case under a strength-2 collation', () => {
    const index = uniqueIndex({ key: { email: 1 }, collation: { locale: 'en', strength: 2 } })
    expect(firstDuplicate(index, [{ email: 'A@x' }, { email: 'a@X' }])).toEqual({ email: 'a@X' })
  })

  it('lets a document keep its own key when it is updated', () => {
    const index = uniqueIndex({ key: { email: 1 } })
    index.add({ email: 'a' }, 'one')
    expect(index.check({ email: 'a', name: 'new' }, 'one')).toBeUndefined()
  })
})

it('words duplicate-key errors like mongod', () => {
  const index = uniqueIndex({ key: { _id: 1 }, name: '_id_' })
  const id = new ObjectId('65f000000000000000000001')
  index.add({ _id: id }, 'x')
  const duplicate = index.check({ _id: id }, 'y')
  expect(duplicate && duplicateKeyMessage('app.users', duplicate)).toBe(
    "E11000 duplicate key error collection: app.users index: _id_ dup key: { _id: ObjectId('65f000000000000000000001') }",
  )
})

it('fills in the name and drops background, as mongod lists indexes', () => {
  expect(normalizeIndexSpec({ key: { a: 1, b: -1 }, background: true, unique: true })).toEqual({
    v: 2,
    key: { a: 1, b: -1 },
    name: 'a_1_b_-1',
    unique: true,
  })
})
