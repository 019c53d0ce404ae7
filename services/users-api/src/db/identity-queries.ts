import type { Types } from 'mongoose'
import type { Database } from './database.js'
import type { IdentityRecord } from './identity-model.js'

export type NewIdentity = Omit<IdentityRecord, '_id'>

/** Every query on linked provider identities. */
export function identityQueries({ identities }: Database) {
  return {
    find(provider: string, subject: string): Promise<IdentityRecord | null> {
      return identities.findOne({ provider, subject }).lean<IdentityRecord>().exec()
    },

    /** Throws a duplicate-key error when the identity, or the user's provider, is taken. */
    async insert(identity: NewIdentity): Promise<void> {
      await identities.create(identity)
    },

    /** Puts back an identity exactly as it was (an unlink that turned out to be the last). */
    async restore(identity: IdentityRecord): Promise<void> {
      await identities.create(identity)
    },

    listByUser(userId: Types.ObjectId): Promise<IdentityRecord[]> {
      return identities.find({ userId }).sort({ linkedAt: 1 }).lean<IdentityRecord[]>().exec()
    },

    countByUser(userId: Types.ObjectId): Promise<number> {
      return identities.countDocuments({ userId }).exec()
    },

    /** Removes the user's identity at a provider in one write; returns what was removed. */
    removeOwned(userId: Types.ObjectId, provider: string): Promise<IdentityRecord | null> {
      return identities.findOneAndDelete({ userId, provider }).lean<IdentityRecord>().exec()
    },

    /** An identity whose user no longer exists (left behind by a race with a delete). */
    async removeOrphan(identity: IdentityRecord): Promise<void> {
      await identities.deleteOne({ _id: identity._id, userId: identity.userId })
    },

    async removeAllOfUser(userId: Types.ObjectId): Promise<void> {
      await identities.deleteMany({ userId })
    },
  }
}
