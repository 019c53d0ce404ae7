import { driverCollection, isDuplicateKey, type Database } from './database.js'

/** The per-address mail budget, shared by every replica through MongoDB. */
export function mailBudgetQueries({ mailBudgetSlots }: Database) {
  return {
    /**
     * Takes one of `slots` slots of the key for `windowMs`, or returns false when every slot
     * is held. A slot is taken by one insert (the unique _id lets one request have it) or,
     * once it has expired, by one conditional update: never by a read followed by a write.
     */
    async take(key: string, slots: number, windowMs: number, now: Date): Promise<boolean> {
      const until = new Date(now.getTime() + windowMs)
      for (let slot = 0; slot < slots; slot++) {
        const _id = `${key}:${String(slot)}`
        try {
          await driverCollection(mailBudgetSlots).insertOne({ _id, expiresAt: until })
          return true
        } catch (error) {
          if (!isDuplicateKey(error)) throw error
        }
        const { modifiedCount } = await driverCollection(mailBudgetSlots).updateOne(
          { _id, expiresAt: { $lte: now } },
          { $set: { expiresAt: until } },
        )
        if (modifiedCount === 1) return true
      }
      return false
    },
  }
}
