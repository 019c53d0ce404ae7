import { Long, MongoClient, MongoServerError, type Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type RunningServer } from '../src/index.js'

// Behaviour of mongo-lite itself that the driver-level compatibility suite (which must also
// pass against a real mongod) cannot pin down: batching limits, its TTL sweep option,
// transaction rollback.

let server: RunningServer
let client: MongoClient
beforeAll(async () => {
  server = await start({ ttlSweepMs: 50 })
  client = await new MongoClient(server.uri).connect()
})
afterAll(async () => {
  await client.close()
  await server.stop()
})

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('_id', () => {
  it('is unique even though its index does not say so', async () => {
    const items = client.db('ids').collection<{ _id: number; v?: number }>('items')
    await items.insertOne({ _id: 1, v: 1 })
    const error = await items.insertOne({ _id: 1, v: 2 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 1 } })
    expect(await items.find().toArray()).toEqual([{ _id: 1, v: 1 }])
    expect(await items.listIndexes().toArray()).toEqual([{ v: 2, key: { _id: 1 }, name: '_id_' }])
  })
})

describe('updates', () => {
  it('lets an upsert choose its _id through $setOnInsert, as mongod does', async () => {
    const items = client.db('updates').collection<{ _id: string; n?: number }>('items')
    const result = await items.updateOne(
      { n: 1 },
      { $setOnInsert: { _id: 'chosen' }, $set: { n: 1 } },
      { upsert: true },
    )
    expect(result.upsertedId).toBe('chosen')
    await items.updateOne({ _id: 'chosen' }, { $set: { _id: 'chosen', n: 2 } })
    expect(await items.find().toArray()).toEqual([{ _id: 'chosen', n: 2 }])
  })

  it('keeps a field named __proto__ as data and never walks into prototypes', async () => {
    const items = client.db('updates').collection('proto')
    await items.insertOne(JSON.parse('{"_id": 1, "__proto__": {"polluted": true}}') as never)
    const stored = await items.findOne({ _id: 1 as never })
    expect(Object.getOwnPropertyNames(stored)).toEqual(['_id', '__proto__'])
    // On a collection that does not exist yet, only the upsert itself reads the filter.
    const upsert = client
      .db('updates')
      .collection('proto-new')
      .updateOne({ '__proto__.polluted': true }, { $set: { a: 1 } }, { upsert: true })
    await expect(upsert).rejects.toMatchObject({ code: 2 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('sorts by $natural, forwards and backwards', async () => {
    const items = client.db('updates').collection('natural')
    await items.insertMany([{ v: 'b' }, { v: 'a' }, { v: 'c' }])
    const order = async (direction: 1 | -1) =>
      (await items.find().sort({ $natural: direction }).toArray()).map((doc) => doc.v as string)
    expect(await order(1)).toEqual(['b', 'a', 'c'])
    expect(await order(-1)).toEqual(['c', 'a', 'b'])
  })
})

describe('index conflicts', () => {
  it('tells a taken name from a taken definition, as mongod does', async () => {
    const things = client.db('conflicts').collection('things')
    const create = (key: Record<string, 1>, options: Record<string, unknown>) =>
      things
        .createIndex(key, options, undefined)
        .then(() => 'created')
        .catch((error: unknown) => (error as { code: number }).code)
    expect(await create({ at: 1 }, { name: 'at_1', expireAfterSeconds: 60 })).toBe('created')
    expect(await create({ at: 1 }, { name: 'at_1', expireAfterSeconds: 60 })).toBe('created')
    // Same name and identity, other TTL: one index in two versions.
    expect(await create({ at: 1 }, { name: 'at_1', expireAfterSeconds: 120 })).toBe(85)
    // Same definition under another name.
    expect(await create({ at: 1 }, { name: 'other', expireAfterSeconds: 60 })).toBe(85)
    // Same name, different identity (unique is part of it).
    expect(await create({ at: 1 }, { name: 'at_1', unique: true })).toBe(86)
    // Same key but unique: a different index, which may coexist.
    expect(await create({ at: 1 }, { name: 'at_unique', unique: true })).toBe('created')
  })
})

describe('cursors', () => {
  const db = () => client.db('cursors')

  it('returns 101 documents first by default, the rest through getMore', async () => {
    await db()
      .collection('many')
      .insertMany(Array.from({ length: 250 }, (_, i) => ({ i })))
    // promoteLongs off: cursor ids stay int64, as a real server insists on for getMore.
    const first = await db().command({ find: 'many', filter: {} }, { promoteLongs: false })
    const cursor = first.cursor as { id: Long; firstBatch: Document[] }
    expect(cursor.firstBatch).toHaveLength(101)
    const more = await db().command(
      { getMore: cursor.id, collection: 'many' },
      { promoteLongs: false },
    )
    expect((more.cursor as { nextBatch: Document[] }).nextBatch).toHaveLength(149)
    expect((more.cursor as { id: Long }).id.isZero()).toBe(true)
  })

  it('keeps a batch under 16 MiB however many documents were asked for', async () => {
    const mebibyte = 'x'.repeat(1024 * 1024)
    await db()
      .collection('big')
      .insertMany(Array.from({ length: 20 }, (_, i) => ({ i, mebibyte })))
    const first = await db().command({ find: 'big', filter: {}, batchSize: 1000 })
    const batch = (first.cursor as { firstBatch: Document[] }).firstBatch
    expect(batch.length).toBeGreaterThan(0)
    expect(batch.length).toBeLessThan(16)
    expect(await db().collection('big').countDocuments()).toBe(20)
    expect(await db().collection('big').find().toArray()).toHaveLength(20)
  })

  it('forgets killed cursors', async () => {
    const first = await db().command(
      { find: 'many', filter: {}, batchSize: 10 },
      { promoteLongs: false },
    )
    const id = (first.cursor as { id: Long }).id
    const killed = await db().command(
      { killCursors: 'many', cursors: [id] },
      { promoteLongs: false },
    )
    expect(killed.cursorsKilled).toEqual([id])
    const error = await db()
      .command({ getMore: id, collection: 'many' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MongoServerError)
    expect((error as MongoServerError).code).toBe(43)
  })
})

describe('TTL', () => {
  it('sweeps on the interval given to start()', async () => {
    const events = client.db('ttl').collection('events')
    await events.createIndex({ at: 1 }, { expireAfterSeconds: 0 }, undefined)
    const past = new Date(Date.now() - 1000)
    const future = new Date(Date.now() + 3_600_000)
    await events.insertMany([
      { name: 'past', at: past },
      { name: 'future', at: future },
      { name: 'earliest of an array', at: [future, past] },
      { name: 'not a date', at: 'yesterday' },
      { name: 'no field' },
    ])
    await waitFor(async () => (await events.countDocuments()) === 3, 'expiry')
    const names = (await events.find().toArray()).map((event) => String(event.name))
    expect(names.sort()).toEqual(['future', 'no field', 'not a date'])
  })

  it('takes ttlMonitorSleepSecs through setParameter, like mongod', async () => {
    const admin = client.db('admin')
    expect(await admin.command({ setParameter: 1, ttlMonitorSleepSecs: 2 })).toMatchObject({
      was: 0.05,
    })
    expect(await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 })).toMatchObject({
      ttlMonitorSleepSecs: 2,
    })
  })
})

describe('transactions', () => {
  it('restores what an aborted transaction wrote, and keeps a committed one', async () => {
    const accounts = client.db('tx').collection('accounts')
    await accounts.insertOne({ _id: 1 as never, balance: 10 })
    const session = client.startSession()
    session.startTransaction()
    await accounts.updateOne({ _id: 1 as never }, { $inc: { balance: 5 } }, { session })
    await accounts.insertOne({ _id: 2 as never, balance: 1 }, { session })
    await session.abortTransaction()
    expect(await accounts.find().toArray()).toEqual([{ _id: 1, balance: 10 }])

    await session.withTransaction(async () => {
      await accounts.updateOne({ _id: 1 as never }, { $inc: { balance: 5 } }, { session })
    })
    await session.endSession()
    expect(await accounts.findOne({ _id: 1 as never })).toEqual({ _id: 1, balance: 15 })
  })
})
