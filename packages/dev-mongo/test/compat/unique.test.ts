/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   Mongoose types schema options as classes; object literals are how it is used. */
import { MongoClient, MongoServerError as DriverServerError } from 'mongodb'
import type { Connection, Model } from 'mongoose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { errorCode, mongooseVersions, useDatabase } from './compat-env.js'

interface Account {
  email: string
  tenant?: string
  handle?: string
  nickname?: string
  code?: string
  active?: boolean
}

describe.each(mongooseVersions)('unique indexes through $label', ({ key, mongoose }) => {
  const dbName = `compat_unique_${key}`
  const uri = useDatabase(`unique_${key}`)
  let connection: Connection
  let Accounts: Model<Account>

  beforeAll(async () => {
    // A pool as large as the concurrency test, so its inserts really are concurrent.
    connection = await mongoose.createConnection(uri, { maxPoolSize: 20 }).asPromise()
    const schema = new mongoose.Schema<Account>({
      email: { type: String, required: true, unique: true },
      tenant: String,
      handle: String,
      nickname: { type: String, unique: true, sparse: true },
      code: String,
      active: Boolean,
    })
    schema.index({ tenant: 1, handle: 1 }, { unique: true })
    schema.index({ code: 1 }, { unique: true, partialFilterExpression: { active: true } })
    Accounts = connection.model<Account>('Account', schema)
    await Accounts.init()
  })
  afterAll(async () => {
    await connection.close()
  })
  beforeEach(async () => {
    await Accounts.deleteMany({})
  })

  it('rejects a duplicate with E11000, keyPattern and keyValue', async () => {
    await Accounts.create({ email: 'dup@x.org', tenant: 't', handle: 'a' })
    const error = await Accounts.create({ email: 'dup@x.org', tenant: 't', handle: 'b' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(mongoose.mongo.MongoServerError)
    expect(error).toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'dup@x.org' },
      message: `E11000 duplicate key error collection: ${dbName}.accounts index: email_1 dup key: { email: "dup@x.org" }`,
    })
  })

  it('compares compound keys as a whole', async () => {
    await Accounts.create({ email: 'c1@x.org', tenant: 't1', handle: 'h' })
    await Accounts.create({ email: 'c2@x.org', tenant: 't2', handle: 'h' })
    const error = await Accounts.create({ email: 'c3@x.org', tenant: 't1', handle: 'h' }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({
      code: 11000,
      keyPattern: { tenant: 1, handle: 1 },
      keyValue: { tenant: 't1', handle: 'h' },
    })
  })

  it('lets many documents lack a sparse field, but not share it', async () => {
    await Accounts.create([
      { email: 's1@x.org', tenant: 's1' },
      { email: 's2@x.org', tenant: 's2' },
      { email: 's3@x.org', tenant: 's3', nickname: 'nick' },
    ])
    const code = await errorCode(
      Accounts.create({ email: 's4@x.org', tenant: 's4', nickname: 'nick' }),
    )
    expect(code).toBe(11000)
  })

  it('enforces a partial index only on documents matching its filter', async () => {
    await Accounts.create([
      { email: 'p1@x.org', tenant: 'p1', code: 'X', active: false },
      { email: 'p2@x.org', tenant: 'p2', code: 'X', active: false },
      { email: 'p3@x.org', tenant: 'p3', code: 'X', active: true },
    ])
    const error = await Accounts.create({
      email: 'p4@x.org',
      tenant: 'p4',
      code: 'X',
      active: true,
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 11000, keyValue: { code: 'X' } })
  })

  it('treats a missing field as null in a unique index that is not sparse', async () => {
    await Accounts.create({ email: 'n1@x.org' })
    // Both lack tenant and handle: the compound key { tenant: null, handle: null } repeats.
    const error = await Accounts.create({ email: 'n2@x.org' }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 11000, keyValue: { tenant: null, handle: null } })
  })

  it('checks updates, upserts and findOneAndUpdate too', async () => {
    await Accounts.create([
      { email: 'u1@x.org', tenant: 'u1' },
      { email: 'u2@x.org', tenant: 'u2' },
    ])
    expect(
      await errorCode(Accounts.updateOne({ email: 'u2@x.org' }, { $set: { email: 'u1@x.org' } })),
    ).toBe(11000)
    const upsert = Accounts.updateOne(
      { email: 'u1@x.org', tenant: 'nobody' },
      { $set: { handle: 'h' } },
      { upsert: true },
    )
    expect(await errorCode(upsert)).toBe(11000)
    const error = await Accounts.findOneAndUpdate(
      { email: 'u2@x.org' },
      { $set: { email: 'u1@x.org' } },
      { returnDocument: 'after' },
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(mongoose.mongo.MongoServerError)
    expect(error).toMatchObject({
      code: 11000,
      codeName: 'DuplicateKey',
      keyPattern: { email: 1 },
      keyValue: { email: 'u1@x.org' },
    })
    expect(await Accounts.countDocuments({ email: 'u2@x.org' })).toBe(1)
  })

  it('stops an ordered insertMany at the first duplicate; an unordered one carries on', async () => {
    const rows = (prefix: string) => [
      { email: `${prefix}a@x.org`, tenant: `${prefix}1` },
      { email: `${prefix}a@x.org`, tenant: `${prefix}2` },
      { email: `${prefix}b@x.org`, tenant: `${prefix}3` },
    ]
    expect(await errorCode(Accounts.insertMany(rows('o')))).toBe(11000)
    expect(await Accounts.countDocuments({ email: /^o/ })).toBe(1)
    expect(await errorCode(Accounts.insertMany(rows('u'), { ordered: false }))).toBe(11000)
    expect(await Accounts.countDocuments({ email: /^u/ })).toBe(2)
  })

  it('lets exactly one of 20 concurrent inserts of one key succeed', async () => {
    const attempts = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        Accounts.create({ email: 'race@x.org', tenant: `r${i}` }),
      ),
    )
    const failures = attempts.filter((attempt) => attempt.status === 'rejected')
    expect(attempts.length - failures.length).toBe(1)
    expect(failures.map((failure) => (failure.reason as { code?: number }).code)).toEqual(
      Array<number>(19).fill(11000),
    )
  })
})

describe('unique indexes through the driver', () => {
  const uri = useDatabase('unique_driver')
  let client: MongoClient
  beforeAll(async () => {
    client = await new MongoClient(uri).connect()
  })
  afterAll(async () => {
    await client.close()
  })

  it('reports duplicate _ids per document in writeErrors', async () => {
    const items = client.db().collection<{ _id: number }>('items')
    const error = await items
      .insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }], { ordered: false })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 11000,
      writeErrors: [{ index: 2, code: 11000 }],
      insertedCount: 3,
    })
    expect((error as { writeErrors: { errmsg: string }[] }).writeErrors[0]?.errmsg).toContain(
      'index: _id_ dup key: { _id: 1 }',
    )
  })

  it('refuses to build a unique index over existing duplicates', async () => {
    const people = client.db().collection('people')
    await people.insertMany([{ email: 'same' }, { email: 'same' }])
    const error = await people
      .createIndex({ email: 1 }, { unique: true }, undefined)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DriverServerError)
    expect(error).toMatchObject({ code: 11000 })
    expect((await people.indexes()).map((index) => index.name)).toEqual(['_id_'])
  })
})
