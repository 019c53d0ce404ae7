import {
  MongoClient,
  MongoServerError,
  type CommandStartedEvent,
  type CommandSucceededEvent,
  type Db,
  type Document,
} from 'mongodb'
import mongoose from 'mongoose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectRefusal, itWithGap, useDatabase } from './compat-env.js'

// The raw driver (7): batch writes as kind-1 document sequences, pipelines, collation,
// and cursors read in batches.

const uri = useDatabase('driver')
let client: MongoClient
let db: Db
const started: CommandStartedEvent[] = []
const succeeded: CommandSucceededEvent[] = []

beforeAll(async () => {
  client = new MongoClient(uri, { monitorCommands: true })
  client.on('commandStarted', (event) => started.push(event))
  client.on('commandSucceeded', (event) => succeeded.push(event))
  await client.connect()
  db = client.db()
})
afterAll(async () => {
  await client.close()
})

describe('batch writes', () => {
  it('inserts many documents and reports their ids', async () => {
    const result = await db.collection('batch').insertMany([{ a: 1 }, { a: 2 }, { a: 3 }])
    expect(result.insertedCount).toBe(3)
    expect(Object.keys(result.insertedIds)).toEqual(['0', '1', '2'])
  })

  it('runs a mixed bulkWrite', async () => {
    const items = db.collection<{ _id: number; n: number; tag?: string }>('bulk')
    await items.insertMany([
      { _id: 1, n: 1 },
      { _id: 2, n: 2 },
      { _id: 3, n: 3 },
    ])
    const result = await items.bulkWrite([
      { insertOne: { document: { _id: 4, n: 4 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { tag: 'one' } } } },
      { updateMany: { filter: { n: { $gte: 2 } }, update: { $inc: { n: 10 } } } },
      { replaceOne: { filter: { _id: 3 }, replacement: { n: 30 } } },
      { updateOne: { filter: { _id: 5 }, update: { $set: { n: 5 } }, upsert: true } },
      { deleteOne: { filter: { _id: 2 } } },
    ])
    expect(result).toMatchObject({
      insertedCount: 1,
      matchedCount: 5,
      modifiedCount: 5,
      upsertedCount: 1,
      deletedCount: 1,
    })
    expect(await items.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, n: 1, tag: 'one' },
      { _id: 3, n: 30 },
      { _id: 4, n: 14 },
      { _id: 5, n: 5 },
    ])
  })
})

describe('pipelines and collation', () => {
  itWithGap('pipelineUpdate', 'updates through an aggregation pipeline', async (refused) => {
    const sums = db.collection('sums')
    await sums.insertMany([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ])
    const update = sums.updateMany({}, [{ $set: { total: { $add: ['$a', '$b'] } } }])
    if (refused) return expectRefusal(update, refused)
    await update
    const totals = await sums.find({}, { projection: { _id: 0, total: 1 } }).toArray()
    expect(totals).toEqual([{ total: 3 }, { total: 7 }])
  })

  /** Owners and their pets, in collections of the calling test's own. */
  async function ownersAndPets(prefix: string) {
    const owners = `${prefix}_owners`
    const pets = db.collection(`${prefix}_pets`)
    await db.collection(owners).insertMany([
      { _id: 'o1' as never, name: 'Ann' },
      { _id: 'o2' as never, name: 'Bo' },
    ])
    await pets.insertMany([
      { owner: 'o1', kind: 'cat' },
      { owner: 'o1', kind: 'dog' },
      { owner: 'o2', kind: 'cat' },
    ])
    return { owners, pets }
  }

  it('aggregates with $match, $group and $sort', async () => {
    const { pets } = await ownersAndPets('group')
    const perOwner = await pets
      .aggregate([
        { $match: { kind: { $in: ['cat', 'dog'] } } },
        { $group: { _id: '$owner', pets: { $sum: 1 } } },
        { $sort: { pets: -1 } },
      ])
      .toArray()
    expect(perOwner).toEqual([
      { _id: 'o1', pets: 2 },
      { _id: 'o2', pets: 1 },
    ])
  })

  itWithGap('lookup', 'joins another collection with $lookup', async (refused) => {
    const { owners, pets } = await ownersAndPets('lookup')
    const perOwner = pets
      .aggregate([
        { $match: { kind: { $in: ['cat', 'dog'] } } },
        { $group: { _id: '$owner', pets: { $sum: 1 } } },
        { $sort: { pets: -1 } },
        { $lookup: { from: owners, localField: '_id', foreignField: '_id', as: 'owner' } },
        { $project: { _id: 0, pets: 1, name: { $first: '$owner.name' } } },
      ])
      .toArray()
    if (refused) return expectRefusal(perOwner, refused)
    expect(await perOwner).toEqual([
      { pets: 2, name: 'Ann' },
      { pets: 1, name: 'Bo' },
    ])
  })

  itWithGap('collation', 'sorts with a case-insensitive collation', async (refused) => {
    const names = db.collection('names')
    await names.insertMany([{ name: 'carol' }, { name: 'Bob' }, { name: 'alice' }])
    const sorted = names
      .find({}, { projection: { _id: 0 } })
      .collation({ locale: 'en', strength: 2 })
      .sort({ name: 1 })
      .toArray()
    if (refused) return expectRefusal(sorted, refused)
    expect((await sorted).map((doc) => doc.name as string)).toEqual(['alice', 'Bob', 'carol'])
  })
})

describe('cursors over 1,000 documents', () => {
  beforeAll(async () => {
    await db.collection('thousand').insertMany(Array.from({ length: 1000 }, (_, i) => ({ i })))
  })

  it('reads them in batches of 100 through getMore', async () => {
    const before = started.filter((event) => event.commandName === 'getMore').length
    const seen = new Set<number>()
    for await (const doc of db.collection('thousand').find({}, { batchSize: 100 })) {
      seen.add(doc.i as number)
    }
    const getMores = started.filter((event) => event.commandName === 'getMore').slice(before)
    expect(seen.size).toBe(1000)
    // 900 documents after the first batch: nine getMores, plus one if the server only
    // notices the end of the results on the next request.
    expect(getMores.length).toBeGreaterThanOrEqual(9)
    expect(getMores.length).toBeLessThanOrEqual(10)
    for (const getMore of getMores) expect(getMore.command.batchSize).toBe(100)
  })

  it('returns 101 documents in the first batch by default', async () => {
    const before = succeeded.length
    await db
      .collection('thousand')
      .find({ i: { $gte: 0 } })
      .toArray()
    const find = succeeded.slice(before).find((event) => event.commandName === 'find')
    const reply = find?.reply as { cursor: { firstBatch: Document[] } }
    expect(reply.cursor.firstBatch).toHaveLength(101)
  })

  it('serves a mongoose cursor with a batch size', async () => {
    const connection = await mongoose.createConnection(uri).asPromise()
    const Thousand = connection.model(
      'Thousand',
      new mongoose.Schema({ i: Number }, { collection: 'thousand' }),
    )
    let count = 0
    for await (const doc of Thousand.find().sort({ i: -1 }).batchSize(100).cursor()) {
      expect(doc.i).toBe(999 - count)
      count++
    }
    expect(count).toBe(1000)
    await connection.close()
  })

  it('stops early when the cursor is closed', async () => {
    const cursor = db.collection('thousand').find({}, { batchSize: 10 })
    expect(await cursor.next()).toMatchObject({ i: 0 })
    await cursor.close()
    expect(started.some((event) => event.commandName === 'killCursors')).toBe(true)
  })
})

describe('administration', () => {
  it('creates, lists and drops collections', async () => {
    await db.createCollection('made')
    expect(await db.listCollections({ name: 'made' }).toArray()).toMatchObject([
      { name: 'made', type: 'collection' },
    ])
    expect(await db.collection('made').drop()).toBe(true)
    expect(await db.listCollections({ name: 'made' }, { nameOnly: true }).toArray()).toEqual([])
  })

  it('answers an unknown command with CommandNotFound', async () => {
    const error = await db.command({ frobnicate: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MongoServerError)
    expect(error).toMatchObject({
      code: 59,
      codeName: 'CommandNotFound',
      message: "no such command: 'frobnicate'",
    })
  })

  it('answers ping, buildInfo and hello', async () => {
    const admin = client.db('admin')
    expect(await admin.command({ ping: 1 })).toMatchObject({ ok: 1 })
    expect(await admin.command({ buildInfo: 1 })).toMatchObject({ ok: 1 })
    expect(await admin.command({ hello: 1 })).toMatchObject({
      isWritablePrimary: true,
      logicalSessionTimeoutMinutes: expect.any(Number) as unknown,
    })
  })
})
