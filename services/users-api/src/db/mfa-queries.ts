import type { Types } from 'mongoose'
import type { Database } from './database.js'
import type { MfaChallengeRecord } from './mfa-challenge-model.js'
import type { MfaFactorRecord } from './mfa-factor-model.js'

/** Every query on second factors and their sign-in challenges, named for what it does. */
export function mfaQueries({ mfaFactors, mfaChallenges }: Database) {
  return {
    findFactor(userId: Types.ObjectId): Promise<MfaFactorRecord | null> {
      return mfaFactors.findById(userId).lean<MfaFactorRecord>().exec()
    },

    /**
     * Starts (or restarts) an enrolment; false when a confirmed factor is there (the unique
     * `_id` refuses the upsert), which only turning it off removes.
     */
    async beginEnrolment(userId: Types.ObjectId, ciphertext: string, now: Date): Promise<boolean> {
      try {
        await mfaFactors.updateOne(
          { _id: userId, confirmed: false },
          {
            $set: { ciphertext, enrolledAt: now, lastStep: 0, recoveryCodeHashes: [] },
            $setOnInsert: { confirmed: false },
          },
          { upsert: true },
        )
        return true
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code === 11000) return false
        throw error
      }
    },

    /** Confirms the pending enrolment that holds `ciphertext`; false if it changed meanwhile. */
    async confirm(
      userId: Types.ObjectId,
      pendingCiphertext: string,
      set: { ciphertext: string; lastStep: number; recoveryCodeHashes: string[] },
    ): Promise<boolean> {
      const { modifiedCount } = await mfaFactors.updateOne(
        { _id: userId, confirmed: false, ciphertext: pendingCiphertext },
        { $set: { ...set, confirmed: true } },
      )
      return modifiedCount === 1
    },

    /**
     * Accepts time step `step` once: one conditional update, so of two requests with the same
     * code (or any older one) exactly one wins.
     */
    async acceptStep(userId: Types.ObjectId, step: number): Promise<boolean> {
      const { modifiedCount } = await mfaFactors.updateOne(
        { _id: userId, lastStep: { $lt: step } },
        { $set: { lastStep: step } },
      )
      return modifiedCount === 1
    },

    /** A secret re-encrypted under the active key replaces the old ciphertext, if unchanged. */
    async replaceCiphertext(userId: Types.ObjectId, from: string, to: string): Promise<void> {
      await mfaFactors.updateOne({ _id: userId, ciphertext: from }, { $set: { ciphertext: to } })
    },

    /** Uses a recovery code: it leaves the list in one conditional update, so once only. */
    async useRecoveryCode(userId: Types.ObjectId, hash: string): Promise<boolean> {
      const { modifiedCount } = await mfaFactors.updateOne(
        { _id: userId, confirmed: true, recoveryCodeHashes: hash },
        { $pull: { recoveryCodeHashes: hash } },
      )
      return modifiedCount === 1
    },

    async replaceRecoveryCodes(userId: Types.ObjectId, hashes: string[]): Promise<boolean> {
      const { matchedCount } = await mfaFactors.updateOne(
        { _id: userId, confirmed: true },
        { $set: { recoveryCodeHashes: hashes } },
      )
      return matchedCount === 1
    },

    async deleteFactor(userId: Types.ObjectId): Promise<void> {
      await mfaFactors.deleteOne({ _id: userId })
    },

    async insertChallenge(challenge: MfaChallengeRecord): Promise<void> {
      await mfaChallenges.create(challenge)
    },

    /**
     * Counts one attempt on a live challenge that has attempts left and returns it, or null:
     * counting before checking means concurrent guesses cannot exceed the allowance.
     */
    claimAttempt(
      tokenHash: string,
      now: Date,
      maxAttempts: number,
    ): Promise<MfaChallengeRecord | null> {
      return mfaChallenges
        .findOneAndUpdate(
          { _id: tokenHash, expiresAt: { $gt: now }, attempts: { $lt: maxAttempts } },
          { $inc: { attempts: 1 } },
          { returnDocument: 'after' },
        )
        .lean<MfaChallengeRecord>()
        .exec()
    },

    /** Gives back an attempt whose code was never checked (a dependency failed). */
    async returnAttempt(tokenHash: string): Promise<void> {
      await mfaChallenges.updateOne(
        { _id: tokenHash, attempts: { $gt: 0 } },
        { $inc: { attempts: -1 } },
      )
    },

    /** Uses the challenge up: true for the one request that deletes it. */
    async consumeChallenge(tokenHash: string): Promise<boolean> {
      const { deletedCount } = await mfaChallenges.deleteOne({ _id: tokenHash })
      return deletedCount === 1
    },
  }
}
