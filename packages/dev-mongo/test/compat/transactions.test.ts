import type { Connection, Model } from 'mongoose'
import { afterAll, beforeAll, beforeEach, describe, expect } from 'vitest'
import { expectRefusal, itWithGap, mongooseVersions, useDatabase } from './compat-env.js'

interface Account {
  name: string
  balance: number
}

describe.each(mongooseVersions)('transactions through $label', ({ key, mongoose }) => {
  const uri = useDatabase(`transactions_${key}`)
  let connection: Connection
  let Accounts: Model<Account>

  beforeAll(async () => {
    connection = await mongoose.createConnection(uri).asPromise()
    Accounts = connection.model<Account>(
      'Account',
      new mongoose.Schema<Account>({ name: String, balance: Number }),
    )
    // Collections are created up front: not every server version creates them in a transaction.
    await Accounts.init()
  })
  afterAll(async () => {
    await connection.close()
  })
  beforeEach(async () => {
    await Accounts.deleteMany({})
    await Accounts.create([
      { name: 'a', balance: 10 },
      { name: 'b', balance: 0 },
    ])
  })

  async function balances(): Promise<Record<string, number>> {
    const accounts = await Accounts.find().lean()
    return Object.fromEntries(accounts.map((account) => [account.name, account.balance]))
  }

  async function transfer(amount: number, fail: boolean): Promise<void> {
    const session = await connection.startSession()
    try {
      await session.withTransaction(async () => {
        await Accounts.updateOne({ name: 'a' }, { $inc: { balance: -amount } }, { session })
        await Accounts.updateOne({ name: 'b' }, { $inc: { balance: amount } }, { session })
        await Accounts.create([{ name: `log-${amount}`, balance: amount }], { session })
        if (fail) throw new Error('transfer refused')
      })
    } finally {
      await session.endSession()
    }
  }

  // A standalone mongod and FerretDB refuse transactions (known-gaps.ts); mongo-lite and
  // replica sets run them.
  itWithGap('transactions', 'commits every write of withTransaction together', async (refused) => {
    if (refused) return expectRefusal(transfer(3, false), refused)
    await transfer(3, false)
    expect(await balances()).toEqual({ a: 7, b: 3, 'log-3': 3 })
  })

  itWithGap('transactions', 'rolls every write back when the callback throws', async (refused) => {
    if (refused) await expectRefusal(transfer(4, true), refused)
    else await expect(transfer(4, true)).rejects.toThrow('transfer refused')
    expect(await balances()).toEqual({ a: 10, b: 0 })
  })

  itWithGap('transactions', 'discards writes on abortTransaction', async (refused) => {
    const session = await connection.startSession()
    session.startTransaction()
    const write = Accounts.updateOne({ name: 'a' }, { $set: { balance: 99 } }, { session })
    if (refused) {
      await expectRefusal(write, refused)
    } else {
      await write
      await session.abortTransaction()
      expect(await balances()).toEqual({ a: 10, b: 0 })
    }
    await session.endSession()
  })
})
