import { ObjectId } from 'bson'
import { describe, expect, it } from 'vitest'
import { normalizeIndexSpec } from '../src/indexes.js'
import { selectDocuments } from '../src/query.js'
import { Collection } from '../src/storage.js'

function users(): Collection {
  const collection = new Collection('db', 'users')
  collection.addIndex(normalizeIndexSpec({ key: { email: 1 }, unique: true }))
  collection.addIndex(normalizeIndexSpec({ key: { nick: 1 }, unique: true, sparse: true }))
  collection.addIndex(normalizeIndexSpec({ key: { tags: 1 }, unique: true }))
  collection.addIndex(
    normalizeIndexSpec({
      key: { handle: 1 },
      unique: true,
      collation: { locale: 'en', strength: 2 },
    }),
  )
  return collection
}

const a = {
  _id: new ObjectId(),
  email: 'a@x.io',
  nick: 'ann',
  tags: ['red', 'blue'],
  handle: 'Ann',
  age: 30,
}
const b = { _id: new ObjectId(), email: 'b@x.io', tags: ['green'], handle: 'Bob', age: 40 }

/** What a query returns through the lookup must equal what a full scan returns. */
function sameAsScan(collection: Collection, filter: Record<string, unknown>): unknown[] {
  const fast = selectDocuments(collection.candidates(filter), filter)
  const scan = selectDocuments(collection.documents(), filter)
  expect(fast).toEqual(scan)
  return fast
}

describe('index-backed candidates', () => {
  it('answers plain equality on _id and on unique fields with one lookup', () => {
    const collection = users()
    collection.insert(a)
    collection.insert(b)
    expect(collection.candidates({ _id: a._id })).toEqual([a])
    expect(collection.candidates({ _id: { $eq: b._id } })).toEqual([b])
    expect(collection.candidates({ email: 'b@x.io' })).toEqual([b])
    expect(collection.candidates({ email: 'nobody@x.io' })).toEqual([])
    expect(collection.candidates({ tags: 'blue' })).toEqual([a])
  })

  it('scans when the index cannot answer: sparse, operators, regexes, null, no index', () => {
    const collection = users()
    collection.insert(a)
    collection.insert(b)
    for (const filter of [
      { nick: 'ann' },
      { email: { $gt: 'a' } },
      { email: /x/ },
      { email: null },
      { age: 30 },
      {},
    ]) {
      expect(collection.candidates(filter)).toHaveLength(2)
    }
  })

  it('gives the same answers as a full scan', () => {
    const collection = users()
    collection.insert(a)
    collection.insert(b)
    expect(sameAsScan(collection, { _id: a._id, age: 30 })).toHaveLength(1)
    expect(sameAsScan(collection, { _id: a._id, age: 31 })).toHaveLength(0)
    expect(sameAsScan(collection, { email: 'a@x.io', _id: b._id })).toHaveLength(0)
    expect(sameAsScan(collection, { _id: String(a._id) })).toHaveLength(0)
    // A case-insensitive index finds the candidate; matching stays exact, as without collation.
    expect(sameAsScan(collection, { handle: 'ann' })).toHaveLength(0)
    expect(sameAsScan(collection, { handle: 'Ann' })).toHaveLength(1)
  })

  it('follows updates and removals', () => {
    const collection = users()
    collection.insert(a)
    const renamed = { ...a, email: 'new@x.io' }
    collection.replace(a, renamed)
    expect(collection.candidates({ email: 'a@x.io' })).toEqual([])
    expect(collection.candidates({ email: 'new@x.io' })).toEqual([renamed])
    collection.remove(renamed)
    expect(collection.candidates({ _id: a._id })).toEqual([])
  })
})
