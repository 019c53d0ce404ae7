/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   Mongoose types schema options as classes; object literals are how it is used. */
import { MongoClient } from 'mongodb'
import mongoose, { type Connection } from 'mongoose'
import { afterAll, beforeAll, expect } from 'vitest'
import { engine, expectRefusal, itWithGap, useDatabase } from './compat-env.js'
import { gapReason, knownGaps } from './known-gaps.js'

// Both mongo-lite and mongod sweep TTL indexes every 60 s unless told otherwise; mongod is
// told through setParameter ttlMonitorSleepSecs, and mongo-lite accepts the same command.

const uri = useDatabase('ttl')
let client: MongoClient
let connection: Connection
/** The sweep interval before this file changed it, to put back afterwards. */
let previousSleepSecs: number | undefined

beforeAll(async () => {
  client = await new MongoClient(uri).connect()
  connection = await mongoose.createConnection(uri).asPromise()
  const gap = knownGaps[engine].ttlMonitorSetting
  if (gap) {
    console.info(`ttl: ${engine} cannot shorten the TTL sweep (${gapReason(gap)})`)
    return
  }
  try {
    const reply = await client.db('admin').command({ setParameter: 1, ttlMonitorSleepSecs: 1 })
    previousSleepSecs = Number(reply.was)
  } catch (error) {
    // An external server may not let us; then expiry just takes up to a minute.
    console.info(`ttl: could not shorten the TTL sweep (${String(error)}); waiting up to 75 s`)
  }
})
afterAll(async () => {
  if (previousSleepSecs !== undefined) {
    await client.db('admin').command({ setParameter: 1, ttlMonitorSleepSecs: previousSleepSecs })
  }
  await connection.close()
  await client.close()
})

itWithGap(
  'ttlIndex',
  'expires documents whose TTL date has passed, and only those',
  async (refused) => {
    const Tokens = connection.model(
      'Token',
      new mongoose.Schema({ name: String, expiresAt: { type: Date, expires: 0 } }),
    )
    if (refused) return expectRefusal(Tokens.init(), refused)
    await Tokens.init()
    const indexes = await Tokens.listIndexes()
    expect(indexes).toContainEqual(
      expect.objectContaining({ key: { expiresAt: 1 }, expireAfterSeconds: 0 }),
    )

    const past = new Date(Date.now() - 60_000)
    const future = new Date(Date.now() + 3_600_000)
    await Tokens.create([
      { name: 'expired', expiresAt: past },
      { name: 'live', expiresAt: future },
      { name: 'no date' },
    ])
    // mongoose would cast these, so they go in through the driver.
    await Tokens.collection.insertMany([
      { name: 'earliest date of an array', expiresAt: [future, past] },
      { name: 'not a date', expiresAt: 'tomorrow' },
    ])

    const deadline = Date.now() + 75_000
    while ((await Tokens.countDocuments()) > 3) {
      if (Date.now() > deadline) throw new Error('expired documents were never removed')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const left = await Tokens.find().sort({ name: 1 }).lean()
    expect(left.map((token) => token.name)).toEqual(['live', 'no date', 'not a date'])
  },
  90_000,
)
