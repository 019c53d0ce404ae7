import type { Types } from 'mongoose'
import { driverCollection, type Database } from './database.js'
import type { MailTokenPurpose, MailTokenRecord } from './mail-token-model.js'
import { sessionUserFields, type SessionUser } from './user-queries.js'

/** Every query on mail tokens (and the user fields their flows set), named for what it does. */
export function mailTokenQueries({ mailTokens, users, principalStamps }: Database) {
  return {
    /** Stores a token and voids every older one of its kind for the account. */
    async replace(token: MailTokenRecord): Promise<void> {
      const collection = driverCollection(mailTokens)
      await collection.deleteMany({ userId: token.userId, purpose: token.purpose })
      await collection.insertOne(token)
    },

    /** Stores the first token of an account made moments ago: there is none to void. */
    async insertFirst(token: MailTokenRecord): Promise<void> {
      await driverCollection(mailTokens).insertOne(token)
    },

    /** The live token, read without using it (to learn whose it is before costly work). */
    findLive(hash: string, purpose: MailTokenPurpose, now: Date): Promise<MailTokenRecord | null> {
      return mailTokens
        .findOne({ _id: hash, purpose, expiresAt: { $gt: now } })
        .lean<MailTokenRecord>()
        .exec()
    },

    /** Uses the token: one conditional delete, so of concurrent uses exactly one gets it. */
    consume(hash: string, purpose: MailTokenPurpose, now: Date): Promise<MailTokenRecord | null> {
      return mailTokens
        .findOneAndDelete({ _id: hash, purpose, expiresAt: { $gt: now } })
        .lean<MailTokenRecord>()
        .exec()
    },

    async voidAll(userId: Types.ObjectId, purpose: MailTokenPurpose): Promise<void> {
      await mailTokens.deleteMany({ userId, purpose })
    },

    /** Marks the address verified while it is still the account's address. */
    async markEmailVerified(userId: Types.ObjectId, email: string): Promise<SessionUser | null> {
      // A change to the user: its cached principals are stale on every replica.
      const user = await principalStamps.around({ userId: userId.toString() }, () =>
        users
          .findOneAndUpdate(
            { _id: userId, email },
            { $set: { emailVerified: true } },
            { returnDocument: 'after' },
          )
          // No projection at all (FerretDB's findAndModify refuses one); fields are picked below.
          .select('+passwordHash')
          .lean()
          .exec(),
      )
      if (!user) return null
      const picked = Object.fromEntries(
        ['_id', ...Object.keys(sessionUserFields)].map((field) => [
          field,
          user[field as keyof typeof user],
        ]),
      )
      return picked as unknown as SessionUser
    },
  }
}
