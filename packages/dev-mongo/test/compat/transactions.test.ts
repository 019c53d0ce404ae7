import type { Connection, Model } from 'mongoose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { backend, errorCode, mongooseVersions, useDatabase } from './compat-env.js'

interface Account {
  name: string
  balance: number
}

describe.each(mongooseVersions)('transactions through $label', ({ key, mongoose }) => {
  const uri = useDatabase(`transactions_${key}`)
  let connection: Connection
  let Accounts: Model<Account>
  /** A standalone mongod refuses transactions; mongo-lite and replica sets run them. */
  let transactional = true

  beforeAll(async () => {
    connection = await mongoose.createConnection(uri).asPromise()
    Accounts = connection.model<Account>(
      'Account',
      new mongoose.Schema<Account>({ name: String, balance: Number }),
    )
    // Collections are created up front: not every server version creates them in a transaction.
    await Accounts.init()
    const hello = await connection.db!.admin().command({ hello: 1 })
    transactional = backend !== 'external' || 'setName' in hello || hello.msg === 'isdbgrid'
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

  it('commits every write of withTransaction together', async () => {
    if (!transactional) {
      expect(await errorCode(transfer(3, false))).toBe(20) // IllegalOperation on a standalone
      return
    }
    await transfer(3, false)
    expect(await balances()).toEqual({ a: 7, b: 3, 'log-3': 3 })
  })

  it('rolls every write back when the callback throws', async () => {
    await expect(transfer(4, true)).rejects.toThrow(transactional ? 'transfer refused' : /.+/)
    expect(await balances()).toEqual({ a: 10, b: 0 })
  })

  it('discards writes on abortTransaction', async () => {
    const session = await connection.startSession()
    session.startTransaction()
    const write = Accounts.updateOne({ name: 'a' }, { $set: { balance: 99 } }, { session })
    if (!transactional) {
      expect(await errorCode(write)).toBe(20)
    } else {
      await write
      await session.abortTransaction()
      expect(await balances()).toEqual({ a: 10, b: 0 })
    }
    await session.endSession()
  })
})
