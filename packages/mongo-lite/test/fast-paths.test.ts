import { Binary, Long, ObjectId } from 'bson'
import { Query, update as mingoUpdate } from 'mingo'
import { describe, expect, it } from 'vitest'
import {
  cloneDocument,
  sameValueKey,
  valueKey,
  withIdFirst,
  type Document,
} from '../src/documents.js'
import { mingo } from '../src/errors.js'
import { MINGO_OPTIONS, simpleMatcher, simpleProjection } from '../src/query.js'
import { applyUpdate } from '../src/update.js'

// The common lookups and updates skip mingo; these tests hold them to what mingo answers.

const id = new ObjectId()
const otherId = new ObjectId()

const documents: Document[] = [
  { _id: id, email: 'a@x.io', n: 1, flag: true, tags: ['red', 'blue'], none: null },
  {
    _id: otherId,
    email: 'b@x.io',
    n: 2.5,
    flag: false,
    tags: [['red']],
    owner: id,
    nested: { a: 1, b: 2 },
  },
  { _id: 'text-id', email: 'A@x.io', n: -0, tags: [], owner: [otherId, id], nan: NaN },
  { _id: 7, n: '1', flag: 'true', nested: { email: 'a@x.io' }, owner: id.toHexString() },
  { _id: new ObjectId(id.toHexString()), n: Long.fromNumber(1), none: [null], toString: 'x' },
]

const simpleFilters: Document[] = [
  {},
  { _id: id },
  { _id: new ObjectId(id.toHexString()) },
  { _id: { $eq: otherId } },
  { _id: 'text-id' },
  { _id: 7 },
  { email: 'a@x.io' },
  { email: 'A@x.io', n: -0 },
  { n: 0 },
  { n: 1 },
  { n: 2.5, flag: false },
  { flag: true },
  { tags: 'red' },
  { tags: 'blue', _id: id },
  { owner: id },
  { owner: otherId },
  { none: null },
  { missing: null },
  { nan: NaN },
  { toString: 'x' },
  { email: { $eq: null } },
]

const otherFilters: Document[] = [
  { 'nested.email': 'a@x.io' },
  { email: /a/ },
  { email: { $in: ['a@x.io'] } },
  { email: { $eq: 'a@x.io', $ne: 'b' } },
  { tags: ['red', 'blue'] },
  { nested: { email: 'a@x.io' } },
  { $or: [{ n: 1 }] },
  { n: { $gt: 0 } },
  { n: Long.fromNumber(1) },
  { created: new Date(0) },
  JSON.parse('{"__proto__": "x"}') as Document,
]

describe('simpleMatcher', () => {
  it('answers every simple filter exactly as mingo does', () => {
    for (const filter of simpleFilters) {
      const match = simpleMatcher(filter)
      expect(match, JSON.stringify(filter)).toBeDefined()
      for (const document of documents) {
        const expected = new Query(filter, MINGO_OPTIONS).test(document)
        expect(match?.(document), `${JSON.stringify(filter)} on ${String(document._id)}`).toBe(
          expected,
        )
      }
    }
  })

  it('leaves paths, operators, regexes, arrays, documents and other types to mingo', () => {
    for (const filter of otherFilters) expect(simpleMatcher(filter)).toBeUndefined()
  })
})

const updates: Document[] = [
  { $set: { email: 'c@x.io' } },
  { $set: { email: 'a@x.io' } },
  { $set: { added: { b: 1, a: [new Date(5)] }, n: 3 } },
  { $set: { tags: ['blue', 'red'] } },
  { $set: { tags: ['red', 'blue'] } },
  { $set: { nested: { b: 2, a: 1 } } },
  { $set: { bin: new Binary(Buffer.from('abc')) } },
  { $set: {}, $unset: {} },
  { $unset: { email: 1, missing: '' } },
  { $inc: { n: 2, fresh: 1 } },
  { $inc: { n: 0 } },
  { $inc: { email: 1 } },
  { $inc: { nan: 1 } },
  { $inc: { n: -1.5 } },
  { $set: { a: 1 }, $inc: { b: 1 }, $unset: { email: true } },
  { $unset: { n: 1 }, $set: { z: 1 } },
  { $setOnInsert: { created: true }, $set: { email: 'd@x.io' } },
  { $push: { tags: 'green' } },
  { $push: { fresh: new Date(3), email: 'x' } },
  { $push: { tags: ['a', { b: 1 }] }, $set: { n: 1 } },
  // Beyond the fast path: mingo applies or rejects these.
  { $set: { 'nested.email': 'z' } },
  { $set: { a: 1 }, $inc: { a: 1 } },
  { $inc: { n: 'one' } },
  { $push: { tags: { $each: ['a', 'b'], $slice: -2 } } },
  { $push: { tags: { label: 'a' } } },
  { $set: { 'tags.$': 'green' } },
]

/** applyUpdate as it was before its fast path: always through mingo's updater. */
function throughMingo(document: Document, update: Document, query: Document): Document {
  const operators = { ...update }
  delete operators.$setOnInsert
  const next = cloneDocument(document)
  const active = Object.entries(operators).filter(
    ([, fields]) => Object.keys(fields as Document).length > 0,
  )
  if (active.length > 0) {
    mingo(() =>
      mingoUpdate(next, cloneDocument(Object.fromEntries(active)), undefined, query, {
        cloneMode: 'deep',
        queryOptions: MINGO_OPTIONS,
      }),
    )
  }
  return next
}

function outcome(run: () => { document: Document; modified: boolean }): unknown {
  try {
    const { document, modified } = run()
    // valueKey sees field order, which toEqual does not.
    return { key: valueKey(document), document, modified }
  } catch (error) {
    return { error: (error as Error).message }
  }
}

describe('applyUpdate', () => {
  it('updates top-level fields exactly as mingo does, field order included', () => {
    for (const stored of documents.slice(0, 4)) {
      const query = { _id: stored._id }
      for (const update of updates) {
        const before = valueKey(stored)
        const actual = outcome(() => applyUpdate(stored, update, { query }))
        const expected = outcome(() => {
          const document = throughMingo(stored, update, query)
          if (valueKey(document._id) !== valueKey(stored._id)) throw new Error('_id changed')
          return { document, modified: valueKey(document) !== valueKey(stored) }
        })
        const label = `${JSON.stringify(update)} on ${String(stored._id)}`
        if ('error' in (expected as Document)) expect(actual, label).toHaveProperty('error')
        else expect(actual, label).toEqual(expected)
        // The stored document itself is never changed.
        expect(valueKey(stored), label).toBe(before)
      }
    }
  })
})

describe('sameValueKey', () => {
  const values: unknown[] = [
    null,
    undefined,
    0,
    -0,
    1,
    Long.fromNumber(1),
    '1',
    'a',
    true,
    new Date(1),
    new Date(1),
    id,
    new ObjectId(id.toHexString()),
    [],
    [1],
    [1, 'a'],
    ['a', 1],
    [[1]],
    {},
    { a: 1 },
    { a: 1, b: 2 },
    { b: 2, a: 1 },
    { a: { b: [null] } },
    { a: { b: [undefined] } },
    new Binary(Buffer.from('abc')),
    /a,b/i,
  ]

  it('agrees with comparing valueKey strings', () => {
    for (const a of values) {
      for (const b of values) {
        for (const foldCase of [false, true]) {
          expect(sameValueKey(a, b, foldCase), `${valueKey(a)} vs ${valueKey(b)}`).toBe(
            valueKey(a, foldCase) === valueKey(b, foldCase),
          )
        }
      }
    }
    expect(sameValueKey('ABC', 'abc', true)).toBe(true)
  })
})

describe('simpleProjection', () => {
  const stored = [
    { _id: 1, m: 2, z: 1, a: 3, B: 4, _x: 5, '10': 6, é: 7, none: null },
    { b: 2, _id: 'x', a: [1, { c: 1 }] },
    { a: 1 },
  ]
  const simple: Document[] = [
    {},
    { a: 1 },
    { z: 1, m: 1, a: 1 },
    { m: true, B: 1, _x: 1, a: 1, missing: 1 },
    { '10': 1, z: 1, é: 1 },
    { z: 1, _id: 1, a: 1 },
    { a: 1, _id: 0 },
    { a: 1, _id: false },
    { _id: 1 },
    { _id: 0 },
    { a: 0 },
    { a: 0, b: false, _id: 0 },
    { none: 0, missing: 0 },
    { none: 1 },
  ]
  const other: Document[] = [
    { 'a.c': 1 },
    { a: 2 },
    { a: { $slice: 1 } },
    { a: 0, _id: 1 },
    { a: 0, b: 1 },
    { a: '$b' },
  ]

  it('projects exactly as mingo does, field order included', () => {
    for (const projection of simple) {
      const project = simpleProjection(projection)
      expect(project, JSON.stringify(projection)).toBeDefined()
      const expected = new Query({}, MINGO_OPTIONS).find<Document>(stored, projection).all()
      const actual = stored.map((document) => project?.(document) ?? {})
      const keys = (documents: Document[]) =>
        documents.map((document) => valueKey(withIdFirst(document)))
      expect(keys(actual), JSON.stringify(projection)).toEqual(keys(expected))
    }
  })

  it('leaves paths, expressions, mixed and other values to mingo', () => {
    for (const projection of other) expect(simpleProjection(projection)).toBeUndefined()
  })
})
