import { Binary, Code, DBRef, ObjectId } from 'bson'
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

describe('candidates from indexes that are not unique', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute))
  const mail = (status: string, minute: number, extra: Record<string, unknown> = {}) => ({
    _id: new ObjectId(),
    status,
    nextAttemptAt: at(minute),
    ...extra,
  })

  function outbox(): Collection {
    const collection = new Collection('db', 'outbox')
    collection.addIndex(normalizeIndexSpec({ key: { status: 1, nextAttemptAt: 1 } }))
    collection.addIndex(normalizeIndexSpec({ key: { labels: 1 } }))
    collection.addIndex(normalizeIndexSpec({ key: { owner: 1 }, sparse: true }))
    collection.addIndex(
      normalizeIndexSpec({ key: { kind: 1 }, partialFilterExpression: { status: 'sent' } }),
    )
    return collection
  }

  it("answers equality on an index's first field with that value's documents, in natural order", () => {
    const collection = outbox()
    const docs = [
      mail('pending', 3, { labels: ['a', 'b'] }),
      mail('sent', 1),
      mail('pending', 2, { labels: 'b' }),
      mail('failed', 0),
      mail('sent', 4, { labels: ['c', 'b'] }),
    ]
    for (const doc of docs) collection.insert(doc)
    const filter = { status: 'pending', nextAttemptAt: { $lte: at(10) } }
    expect(collection.candidates(filter)).toEqual([docs[0], docs[2]])
    expect(collection.candidates({ status: { $eq: 'sent' } })).toEqual([docs[1], docs[4]])
    expect(collection.candidates({ status: 'queued' })).toEqual([])
    // Each element of an array value is a key of its own, as in a multikey index.
    expect(collection.candidates({ labels: 'b' })).toEqual([docs[0], docs[2], docs[4]])
    expect(collection.candidates({ labels: 'c' })).toEqual([docs[4]])
  })

  it('follows updates and removals, and keeps natural order when a document comes back', () => {
    const collection = outbox()
    const [first, second, third] = [mail('pending', 1), mail('pending', 2), mail('pending', 3)]
    for (const doc of [first, second, third]) collection.insert(doc)
    const firstSent = { ...first, status: 'sent' }
    collection.replace(first, firstSent)
    expect(collection.candidates({ status: 'pending' })).toEqual([second, third])
    expect(collection.candidates({ status: 'sent' })).toEqual([firstSent])
    const firstAgain = { ...first, status: 'pending', nextAttemptAt: at(9) }
    collection.replace(firstSent, firstAgain)
    expect(collection.candidates({ status: 'pending' })).toEqual([firstAgain, second, third])
    collection.remove(second)
    expect(collection.candidates({ status: 'pending' })).toEqual([firstAgain, third])
    expect(collection.candidates({ status: 'sent' })).toEqual([])
  })

  it('is built over the documents already there', () => {
    const collection = new Collection('db', 'late')
    const docs = [mail('pending', 1), mail('sent', 2), mail('pending', 3)]
    for (const doc of docs) collection.insert(doc)
    expect(collection.candidates({ status: 'pending' })).toHaveLength(3)
    collection.addIndex(normalizeIndexSpec({ key: { status: 1 } }))
    expect(collection.candidates({ status: 'pending' })).toEqual([docs[0], docs[2]])
  })

  it('scans for what such an index cannot answer: later fields, sparse, partial, other values', () => {
    const collection = outbox()
    const docs = [
      mail('pending', 1, { owner: 'x', kind: 'welcome', flag: true }),
      mail('sent', 2, { owner: 'y', kind: 'welcome' }),
      mail('sent', 3, { kind: 'reset' }),
    ]
    for (const doc of docs) collection.insert(doc)
    for (const filter of [
      { nextAttemptAt: at(1) },
      { owner: 'x' },
      { kind: 'welcome' },
      { status: true },
      { status: null },
      { status: { $in: ['sent'] } },
      // `$eq` is unwrapped once: this asks for a document equal to {$eq: 'sent'}.
      { status: { $eq: { $eq: 'sent' } } },
    ]) {
      expect(collection.candidates(filter)).toHaveLength(3)
    }
    // The _id index keeps no values of its own: the collection's map answers by _id.
    expect(collection.indexes[0]?.holdersOf('_id', docs[0]?._id)).toBeUndefined()
  })

  it('scans for Binary values, which the query engine compares by their text', () => {
    const collection = new Collection('db', 'files')
    collection.addIndex(normalizeIndexSpec({ key: { digest: 1 } }))
    const one = { _id: 1, digest: new Binary(Buffer.from('abc'), 0) }
    const two = { _id: 2, digest: new Binary(Buffer.from('abc'), 4) }
    collection.insert(one)
    collection.insert(two)
    expect(collection.candidates({ digest: new Binary(Buffer.from('abc'), 4) })).toHaveLength(2)
    sameAsScan(collection, { digest: new Binary(Buffer.from('abc'), 4) })
  })

  it('scans for bson values holding documents, whose field order the query engine ignores', () => {
    const collection = new Collection('db', 'links')
    collection.addIndex(normalizeIndexSpec({ key: { ref: 1 } }))
    const id = new ObjectId()
    const values = [
      [new DBRef('c', id, 'd', { a: 1, b: 2 }), new DBRef('c', id, 'd', { b: 2, a: 1 })],
      [new Code('x', { a: 1, b: 2 }), new Code('x', { b: 2, a: 1 })],
    ] as const
    values.flat().forEach((ref, i) => collection.insert({ _id: i, ref }))
    for (const [first, second] of values) {
      expect(sameAsScan(collection, { ref: first })).toHaveLength(2)
      expect(sameAsScan(collection, { ref: second })).toHaveLength(2)
    }
  })

  it('gives the same answers as a full scan', () => {
    const collection = outbox()
    const docs = [
      mail('pending', 3, { labels: ['a', 'b'], n: 1 }),
      mail('sent', 1, { labels: 7 }),
      mail('pending', 2, { labels: [['a']], n: 2 }),
      mail('pending', 5, { labels: [7, 'a'] }),
    ]
    for (const doc of docs) collection.insert(doc)
    expect(sameAsScan(collection, { status: 'pending', nextAttemptAt: { $lte: at(3) } })).toEqual([
      docs[0],
      docs[2],
    ])
    expect(sameAsScan(collection, { labels: 'a' })).toEqual([docs[0], docs[3]])
    expect(sameAsScan(collection, { labels: 7 })).toEqual([docs[1], docs[3]])
    expect(sameAsScan(collection, { labels: 7.0, status: 'sent' })).toEqual([docs[1]])
    expect(sameAsScan(collection, { status: 'pending', n: 2 })).toEqual([docs[2]])
  })
})
