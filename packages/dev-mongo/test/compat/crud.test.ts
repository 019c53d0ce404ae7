/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   Mongoose types schema options as classes; object literals are how it is used. */
import type { Connection, Model, Types } from 'mongoose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { expectRefusal, itWithGap, mongooseVersions, useDatabase } from './compat-env.js'

interface User {
  email: string
  name?: string
  roles: string[]
  logins: number
  score?: number
  lastSeen?: Date
  profile?: { city?: string }
  devices: { name: string; trusted: boolean }[]
  createdAt: Date
  updatedAt: Date
}

describe.each(mongooseVersions)('CRUD through $label', ({ key, mongoose }) => {
  const uri = useDatabase(`crud_${key}`)
  let connection: Connection
  let Users: Model<User>

  beforeAll(async () => {
    connection = await mongoose.createConnection(uri).asPromise()
    const schema = new mongoose.Schema<User>(
      {
        email: { type: String, required: true, unique: true, lowercase: true },
        name: String,
        roles: { type: [String], default: [] },
        logins: { type: Number, default: 0 },
        score: Number,
        lastSeen: Date,
        profile: { city: String },
        devices: [{ _id: false, name: String, trusted: Boolean }],
      },
      { timestamps: true },
    )
    Users = connection.model<User>('User', schema)
    await Users.init()
  })
  afterAll(async () => {
    await connection.close()
  })
  beforeEach(async () => {
    await Users.deleteMany({})
  })

  it('creates documents and reads them back by id, filter and existence', async () => {
    const created = await Users.create({ email: 'Ada@Example.org', name: 'Ada' })
    expect(created.email).toBe('ada@example.org')
    const found = await Users.findById(created._id).lean()
    expect(found).toMatchObject({ email: 'ada@example.org', name: 'Ada', roles: [], logins: 0 })
    expect(found?.createdAt).toBeInstanceOf(Date)
    // mongoose lowercases the filter too, so a mixed-case lookup finds the stored address.
    expect(await Users.findOne({ email: 'ADA@example.org' }).lean()).toMatchObject({ name: 'Ada' })
    expect(await Users.exists({ email: 'ada@example.org' })).toEqual({ _id: created._id })
    expect(await Users.exists({ email: 'nobody@example.org' })).toBeNull()
  })

  it('applies $set, $unset, $inc, $push, $pull, $addToSet, $min and $max', async () => {
    const { _id } = await Users.create({
      email: 'op@x.org',
      name: 'Op',
      roles: ['user'],
      score: 10,
      lastSeen: new Date('2024-01-01T00:00:00Z'),
    })
    await Users.updateOne(
      { _id },
      { $set: { 'profile.city': 'Oslo' }, $inc: { logins: 2 }, $push: { roles: 'admin' } },
    )
    await Users.updateOne({ _id }, { $addToSet: { roles: 'admin' } })
    await Users.updateOne(
      { _id },
      {
        $addToSet: { roles: 'auditor' },
        $min: { score: 5 },
        $max: { lastSeen: new Date('2025-01-01T00:00:00Z') },
      },
    )
    await Users.updateOne({ _id }, { $min: { score: 7 }, $max: { lastSeen: new Date(0) } })
    await Users.updateOne({ _id }, { $pull: { roles: 'user' }, $unset: { name: '' } })
    const user = await Users.findById(_id).lean()
    expect(user).toMatchObject({
      roles: ['admin', 'auditor'],
      logins: 2,
      score: 5,
      profile: { city: 'Oslo' },
      lastSeen: new Date('2025-01-01T00:00:00Z'),
    })
    expect(user).not.toHaveProperty('name')
  })

  it('counts matched and modified documents; a no-op modifies nothing', async () => {
    await Users.create([
      { email: 'a@x.org', name: 'A' },
      { email: 'b@x.org' },
      { email: 'c@x.org' },
    ])
    const same = await Users.updateOne(
      { email: 'a@x.org' },
      { $set: { name: 'A' } },
      { timestamps: false },
    )
    expect(same).toMatchObject({ matchedCount: 1, modifiedCount: 0 })
    const many = await Users.updateMany({}, { $inc: { logins: 1 } })
    expect(many).toMatchObject({ matchedCount: 3, modifiedCount: 3 })
    const none = await Users.updateOne({ email: 'zz@x.org' }, { $set: { name: 'Z' } })
    expect(none).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 0 })
  })

  it('upserts, applying $setOnInsert only when inserting, and keeps createdAt', async () => {
    const first = await Users.updateOne(
      { email: 'new@x.org' },
      { $set: { name: 'first' }, $setOnInsert: { roles: ['founder'] } },
      { upsert: true },
    )
    expect(first).toMatchObject({ upsertedCount: 1, matchedCount: 0 })
    expect(first.upsertedId).toBeInstanceOf(mongoose.Types.ObjectId)
    const inserted = await Users.findById(first.upsertedId).lean()
    expect(inserted).toMatchObject({ email: 'new@x.org', name: 'first', roles: ['founder'] })

    const second = await Users.updateOne(
      { email: 'new@x.org' },
      { $set: { name: 'second' }, $setOnInsert: { roles: ['ignored'] } },
      { upsert: true },
    )
    expect(second).toMatchObject({ upsertedCount: 0, matchedCount: 1, modifiedCount: 1 })
    const updated = await Users.findById(first.upsertedId).lean()
    expect(updated).toMatchObject({ name: 'second', roles: ['founder'] })
    expect(updated?.createdAt).toEqual(inserted?.createdAt)
    expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(inserted!.updatedAt.getTime())
  })

  it('findOneAndUpdate returns the document before or after, and upserts', async () => {
    await Users.create({ email: 'f@x.org', logins: 1 })
    const before = await Users.findOneAndUpdate(
      { email: 'f@x.org' },
      { $inc: { logins: 1 } },
    ).lean()
    expect(before?.logins).toBe(1)
    const after = await Users.findOneAndUpdate(
      { email: 'f@x.org' },
      { $inc: { logins: 1 } },
      { returnDocument: 'after' },
    ).lean()
    expect(after?.logins).toBe(3)

    const upserted = await Users.findOneAndUpdate(
      { email: 'g@x.org' },
      { $set: { name: 'G' } },
      { upsert: true, returnDocument: 'after' },
    ).lean()
    expect(upserted).toMatchObject({ email: 'g@x.org', name: 'G' })
    const missing = await Users.findOneAndUpdate(
      { email: 'none@x.org' },
      { $set: { name: 'N' } },
      { returnDocument: 'after' },
    )
    expect(missing).toBeNull()
    expect(await Users.findOneAndDelete({ email: 'g@x.org' }).lean()).toMatchObject({ name: 'G' })
    expect(await Users.countDocuments()).toBe(1)
  })

  itWithGap(
    'findAndModifyProjection',
    'findOneAndUpdate returns only the projected fields',
    async (refused) => {
      await Users.create({ email: 'p@x.org', name: 'P', logins: 1 })
      const update = Users.findOneAndUpdate(
        { email: 'p@x.org' },
        { $inc: { logins: 1 } },
        { returnDocument: 'after', projection: { _id: 1, logins: 1 } },
      ).lean()
      if (refused) return expectRefusal(update, refused)
      const projected = await update
      expect(Object.keys(projected ?? {}).sort()).toEqual(['_id', 'logins'])
      expect(projected?.logins).toBe(2)
    },
  )

  itWithGap(
    'pushSlice',
    '$push with $each and $slice keeps only the newest elements',
    async (refused) => {
      const { _id } = await Users.create({ email: 'h@x.org', roles: ['r1', 'r2'] })
      const push = Users.updateOne(
        { _id },
        { $push: { roles: { $each: ['r3', 'r4'], $slice: -3 } } },
      )
      if (refused) return expectRefusal(push, refused)
      await push
      expect((await Users.findById(_id).lean())?.roles).toEqual(['r2', 'r3', 'r4'])
    },
  )

  it('projects, sorts, skips and limits; counts and lists distinct values', async () => {
    await Users.create(
      Array.from({ length: 10 }, (_, i) => ({
        email: `u${i}@x.org`,
        score: i,
        name: i % 2 === 0 ? 'even' : 'odd',
      })),
    )
    const page = await Users.find({ score: { $gte: 2 } })
      .sort({ score: -1 })
      .skip(2)
      .limit(3)
      .select('email score -_id')
      .lean()
    expect(page).toEqual([
      { email: 'u7@x.org', score: 7 },
      { email: 'u6@x.org', score: 6 },
      { email: 'u5@x.org', score: 5 },
    ])
    const byTwoKeys = await Users.find().sort({ name: 1, score: -1 }).limit(2).lean()
    expect(byTwoKeys.map((user) => user.score)).toEqual([8, 6])
    const excluded = await Users.findOne({ score: 1 }).select('-roles -logins').lean()
    expect(excluded).not.toHaveProperty('roles')
    expect(excluded).toMatchObject({ email: 'u1@x.org' })

    expect(await Users.countDocuments({ score: { $gte: 5 } })).toBe(5)
    expect(await Users.countDocuments({ name: 'none' })).toBe(0)
    expect(await Users.estimatedDocumentCount()).toBe(10)
    expect((await Users.distinct('name')).sort()).toEqual(['even', 'odd'])
  })

  it('replaces a document whole, keeping its _id', async () => {
    const { _id } = await Users.create({ email: 'r@x.org', name: 'old', roles: ['x'] })
    const result = await Users.replaceOne({ _id }, { email: 'r@x.org', name: 'new' })
    expect(result).toMatchObject({ matchedCount: 1, modifiedCount: 1 })
    const replaced = await Users.findById(_id).lean()
    expect(replaced).toMatchObject({ _id, name: 'new' })
  })

  async function withDevices() {
    const { _id } = await Users.create({
      email: 'd@x.org',
      devices: [
        { name: 'phone', trusted: false },
        { name: 'laptop', trusted: true },
      ],
    })
    return _id
  }

  itWithGap('arrayFilters', 'updates array elements through arrayFilters', async (refused) => {
    const _id = await withDevices()
    const update = Users.updateOne(
      { _id },
      { $set: { 'devices.$[d].trusted': true } },
      { arrayFilters: [{ 'd.name': 'phone' }] },
    )
    if (refused) return expectRefusal(update, refused)
    await update
    expect((await Users.findById(_id).lean())?.devices).toEqual([
      { name: 'phone', trusted: true },
      { name: 'laptop', trusted: true },
    ])
  })

  itWithGap(
    'positionalUpdate',
    'updates the matched array element through the positional operator',
    async (refused) => {
      const _id = await withDevices()
      const update = Users.updateOne(
        { _id, 'devices.name': 'laptop' },
        { $set: { 'devices.$.trusted': false } },
      )
      if (refused) return expectRefusal(update, refused)
      await update
      expect((await Users.findById(_id).lean())?.devices).toEqual([
        { name: 'phone', trusted: false },
        { name: 'laptop', trusted: false },
      ])
    },
  )

  it('deletes one or many documents', async () => {
    await Users.create([{ email: 'x1@x.org' }, { email: 'x2@x.org' }, { email: 'x3@x.org' }])
    expect(await Users.deleteOne({ email: 'x1@x.org' })).toMatchObject({ deletedCount: 1 })
    expect(await Users.deleteOne({ email: 'x1@x.org' })).toMatchObject({ deletedCount: 0 })
    expect(await Users.deleteMany({})).toMatchObject({ deletedCount: 2 })
  })

  it('finds by ObjectId, $in and ranges of dates', async () => {
    const [a, b] = await Users.create([
      { email: 'i1@x.org', lastSeen: new Date('2024-01-01T00:00:00Z') },
      { email: 'i2@x.org', lastSeen: new Date('2024-06-01T00:00:00Z') },
    ])
    const ids: Types.ObjectId[] = [a!._id, b!._id]
    expect(await Users.countDocuments({ _id: { $in: ids } })).toBe(2)
    const recent = await Users.find({ lastSeen: { $gt: new Date('2024-03-01T00:00:00Z') } }).lean()
    expect(recent.map((user) => user.email)).toEqual(['i2@x.org'])
  })
})
