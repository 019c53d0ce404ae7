/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   Mongoose types schema options as classes; object literals are how it is used. */
import { MongoClient, MongoServerError as DriverServerError } from 'mongodb'
import type { Connection, Model } from 'mongoose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { errorCode, expectRefusal, itWithGap, mongooseVersions, useDatabase } from './compat-env.js'

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
    Accounts = connection.model<Account>('Account', schema)
    await Accounts.init()
  })
  afterAll(async () => {
    await connection.close()
  })
  beforeEach(async () => {
    await Accounts.deleteMany({})
  })

  it('rejects a duplicate with E11000', async () => {
    await Accounts.create({ email: 'dup@x.org', tenant: 't', handle: 'a' })
    const error = await Accounts.create({ email: 'dup@x.org', tenant: 't', handle: 'b' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(mongoose.mongo.MongoServerError)
    expect(error).toMatchObject({
      code: 11000,
      message: expect.stringMatching(
        new RegExp(`^E11000 duplicate key error collection: ${dbName}\\.accounts`),
      ) as unknown,
    })
  })

  it('compares compound keys as a whole', async () => {
    await Accounts.create({ email: 'c1@x.org', tenant: 't1', handle: 'h' })
    await Accounts.create({ email: 'c2@x.org', tenant: 't2', handle: 'h' })
    const code = await errorCode(Accounts.create({ email: 'c3@x.org', tenant: 't1', handle: 'h' }))
    expect(code).toBe(11000)
  })

  itWithGap(
    'duplicateKeyDetails',
    'names the index, key pattern and key value of a duplicate',
    async () => {
      await Accounts.create({ email: 'k1@x.org', tenant: 'k', handle: 'h' })
      const single = await Accounts.create({ email: 'k1@x.org', tenant: 'k2' }).catch(
        (e: unknown) => e,
      )
      expect(single).toMatchObject({
        keyPattern: { email: 1 },
        keyValue: { email: 'k1@x.org' },
        message: `E11000 duplicate key error collection: ${dbName}.accounts index: email_1 dup key: { email: "k1@x.org" }`,
      })
      const compound = await Accounts.create({ email: 'k2@x.org', tenant: 'k', handle: 'h' }).catch(
        (e: unknown) => e,
      )
      expect(compound).toMatchObject({
        keyPattern: { tenant: 1, handle: 1 },
        keyValue: { tenant: 'k', handle: 'h' },
      })
    },
  )

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

  itWithGap(
    'partialIndex',
    'enforces a partial index only on documents matching its filter',
    async (refused) => {
      const couponSchema = new mongoose.Schema(
        { code: String, active: Boolean },
        { autoIndex: false },
      )
      couponSchema.index({ code: 1 }, { unique: true, partialFilterExpression: { active: true } })
      const Coupons = connection.model('Coupon', couponSchema)
      await Coupons.createCollection()
      if (refused) return expectRefusal(Coupons.createIndexes(), refused)
      await Coupons.createIndexes()
      await Coupons.create([
        { code: 'X', active: false },
        { code: 'X', active: false },
        { code: 'X', active: true },
      ])
      const error = await Coupons.create({ code: 'X', active: true }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 11000 })
    },
  )

  itWithGap(
    'missingFieldAsNull',
    'treats a missing field as null in a unique index that is not sparse',
    async () => {
      await Accounts.create({ email: 'n1@x.org' })
      // Both lack tenant and handle: the compound key { tenant: null, handle: null } repeats.
      const error = await Accounts.create({ email: 'n2@x.org' }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 11000 })
    },
  )

  itWithGap(
    'duplicateKeyOnUpdate',
    'checks updates, upserts and findOneAndUpdate too',
    async (refused) => {
      await Accounts.create([
        { email: 'u1@x.org', tenant: 'u1' },
        { email: 'u2@x.org', tenant: 'u2' },
      ])
      const update = Accounts.updateOne({ email: 'u2@x.org' }, { $set: { email: 'u1@x.org' } })
      const findAndUpdate = () =>
        Accounts.findOneAndUpdate(
          { email: 'u2@x.org' },
          { $set: { email: 'u1@x.org' } },
          { returnDocument: 'after' },
        )
      if (refused) {
        await expectRefusal(update, refused)
        await expectRefusal(findAndUpdate(), refused)
        expect(await Accounts.countDocuments({ email: 'u2@x.org' })).toBe(1)
        return
      }
      expect(await errorCode(update)).toBe(11000)
      const upsert = Accounts.updateOne(
        { email: 'u1@x.org', tenant: 'nobody' },
        { $set: { handle: 'h' } },
        { upsert: true },
      )
      expect(await errorCode(upsert)).toBe(11000)
      const error = await findAndUpdate().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(mongoose.mongo.MongoServerError)
      expect(error).toMatchObject({ code: 11000, codeName: 'DuplicateKey' })
      expect(await Accounts.countDocuments({ email: 'u2@x.org' })).toBe(1)
    },
  )

  it('checks upserts', async () => {
    await Accounts.create({ email: 'v1@x.org', tenant: 'v1' })
    const upsert = Accounts.updateOne(
      { email: 'v1@x.org', tenant: 'nobody' },
      { $set: { handle: 'h' } },
      { upsert: true },
    )
    expect(await errorCode(upsert)).toBe(11000)
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

  async function duplicateIds(): Promise<unknown> {
    const items = client.db().collection<{ _id: number }>('items')
    await items.deleteMany({})
    return items
      .insertMany([{ _id: 1 }, { _id: 2 }, { _id: 1 }, { _id: 3 }], { ordered: false })
      .catch((e: unknown) => e)
  }

  it('reports duplicate _ids per document in writeErrors', async () => {
    expect(await duplicateIds()).toMatchObject({
      code: 11000,
      writeErrors: [{ index: 2, code: 11000 }],
      insertedCount: 3,
    })
  })

  itWithGap('duplicateKeyDetails', 'names the index and key of a duplicate _id', async () => {
    const error = (await duplicateIds()) as { writeErrors: { errmsg: string }[] }
    expect(error.writeErrors[0]?.errmsg).toContain('index: _id_ dup key: { _id: 1 }')
  })

  itWithGap(
    'uniqueIndexOverDuplicates',
    'refuses to build a unique index over existing duplicates',
    async (refused) => {
      const people = client.db().collection('people')
      await people.insertMany([{ email: 'same' }, { email: 'same' }])
      const build = people.createIndex({ email: 1 }, { unique: true }, undefined)
      if (refused) {
        await expectRefusal(build, refused)
      } else {
        const error = await build.catch((e: unknown) => e)
        expect(error).toBeInstanceOf(DriverServerError)
        expect(error).toMatchObject({ code: 11000 })
      }
      expect((await people.indexes()).map((index) => index.name)).toEqual(['_id_'])
    },
  )
})
