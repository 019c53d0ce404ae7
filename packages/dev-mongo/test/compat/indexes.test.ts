/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   Mongoose types schema options as classes; object literals are how it is used. */
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorCode, expectRefusal, itWithGap, mongooseVersions, useDatabase } from './compat-env.js'

describe.each(mongooseVersions)('index management through $label', ({ key, mongoose }) => {
  const uri = useDatabase(`indexes_${key}`)
  let client: MongoClient
  beforeAll(async () => {
    client = await new MongoClient(uri).connect()
  })
  afterAll(async () => {
    await client.close()
  })

  function schema() {
    return new mongoose.Schema({
      email: { type: String, unique: true },
      // A plain index: TTL indexes have tests of their own (ttl.test.ts), as not every engine has them.
      createdAt: { type: Date, index: true },
      name: String,
    })
  }

  it('creates the declared indexes on Model.init, and lists them as mongod does', async () => {
    const connection = await mongoose.createConnection(uri).asPromise()
    const Users = connection.model('User', schema())
    await Users.init()
    const indexes = await Users.listIndexes()
    expect(indexes).toHaveLength(3)
    expect(indexes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ v: 2, key: { _id: 1 }, name: '_id_' }),
        expect.objectContaining({ v: 2, key: { email: 1 }, name: 'email_1', unique: true }),
        expect.objectContaining({ v: 2, key: { createdAt: 1 }, name: 'createdAt_1' }),
      ]),
    )
    // A second init (another process starting) changes nothing.
    await Users.createIndexes()
    expect(await Users.listIndexes()).toHaveLength(3)
    await connection.close()
  })

  it('syncIndexes drops indexes the schema no longer declares and adds new ones', async () => {
    const connection = await mongoose.createConnection(uri).asPromise()
    const users = client.db().collection('users')
    await users.createIndex({ legacy: 1 }, undefined, undefined)
    const withName = schema()
    withName.index({ name: 1 })
    const Users = connection.model('User', withName)
    const dropped = await Users.syncIndexes()
    expect(dropped).toEqual(['legacy_1'])
    const names = (await users.indexes()).map((index) => index.name).sort()
    expect(names).toEqual(['_id_', 'createdAt_1', 'email_1', 'name_1'])
    expect(await Users.diffIndexes()).toEqual({ toDrop: [], toCreate: [] })
    await connection.close()
  })
})

describe('index errors through the driver', () => {
  const uri = useDatabase('indexes_errors')
  let client: MongoClient
  beforeAll(async () => {
    client = await new MongoClient(uri).connect()
  })
  afterAll(async () => {
    await client.close()
  })

  itWithGap(
    'ttlIndex',
    'refuses an index whose name is taken with other options',
    async (refused) => {
      const things = client.db().collection('things')
      const first = things.createIndex(
        { at: 1 },
        { name: 'at_1', expireAfterSeconds: 60 },
        undefined,
      )
      if (refused) return expectRefusal(first, refused)
      await first
      const again = things.createIndex(
        { at: 1 },
        { name: 'at_1', expireAfterSeconds: 120 },
        undefined,
      )
      expect(await errorCode(again)).toBe(85) // IndexOptionsConflict
    },
  )

  it('refuses an index whose name is taken by other keys', async () => {
    const things = client.db().collection('named')
    await things.createIndex({ at: 1 }, { name: 'when' }, undefined)
    const again = things.createIndex({ other: 1 }, { name: 'when' }, undefined)
    expect(await errorCode(again)).toBe(86) // IndexKeySpecsConflict
  })

  it('reports unknown indexes and collections with their codes', async () => {
    const things = client.db().collection('things')
    await things.insertOne({ a: 1 })
    expect(await errorCode(things.dropIndex('nope'))).toBe(27)
    expect(await errorCode(client.db().collection('missing').indexes())).toBe(26)
    expect(await things.dropIndexes()).toBe(true)
    expect((await things.indexes()).map((index) => index.name)).toEqual(['_id_'])
  })
})
