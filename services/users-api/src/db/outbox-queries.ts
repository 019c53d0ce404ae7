import { Types } from 'mongoose'
import { driverCollection, type Database } from './database.js'
import type { OutboxRecord } from './outbox-model.js'

export interface NewMail {
  to: string
  subject: string
  text: string
  html: string
}

/** How long a finished mail's record (no body) is kept for inspection. */
const keepFinishedMs = 30 * 24 * 60 * 60_000

/** Every query on the mail outbox, named for what it does. */
export function outboxQueries({ outbox: model }: Database) {
  // Each signup queues a mail and the sender makes two more queries for it (claim, mark):
  // the driver directly (see driverCollection).
  const outbox = () => driverCollection(model)
  return {
    async enqueue(mail: NewMail, now: Date, keepMs: number): Promise<void> {
      await outbox().insertOne({
        _id: new Types.ObjectId(),
        ...mail,
        status: 'pending',
        nextAttemptAt: now,
        attempts: 0,
        createdAt: now,
        expiresAt: new Date(now.getTime() + keepMs),
      })
    },

    /**
     * Claims the oldest due mail for `leaseMs`: one conditional update, so one sender holds it
     * at a time; if that sender dies, the mail is due again when the lease runs out.
     */
    claimDue(now: Date, leaseId: string, leaseMs: number): Promise<OutboxRecord | null> {
      return outbox().findOneAndUpdate(
        { status: 'pending', nextAttemptAt: { $lte: now } },
        {
          $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), leaseId },
          $inc: { attempts: 1 },
        },
        { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
      )
    },

    /** Sent: the body (its link is a secret) is removed. */
    async markSent(id: Types.ObjectId, leaseId: string, now: Date): Promise<void> {
      await outbox().updateOne(
        { _id: id, leaseId },
        {
          $set: {
            status: 'sent',
            sentAt: now,
            expiresAt: new Date(now.getTime() + keepFinishedMs),
          },
          $unset: { text: 1, html: 1, leaseId: 1 },
        },
      )
    },

    async scheduleRetry(
      id: Types.ObjectId,
      leaseId: string,
      at: Date,
      lastError: string,
    ): Promise<void> {
      await outbox().updateOne(
        { _id: id, leaseId },
        { $set: { nextAttemptAt: at, lastError }, $unset: { leaseId: 1 } },
      )
    },

    /** Given up: the body is removed, the record says why. */
    async markFailed(
      id: Types.ObjectId,
      leaseId: string,
      now: Date,
      lastError: string,
    ): Promise<void> {
      await outbox().updateOne(
        { _id: id, leaseId },
        {
          $set: {
            status: 'failed',
            lastError,
            expiresAt: new Date(now.getTime() + keepFinishedMs),
          },
          $unset: { text: 1, html: 1, leaseId: 1 },
        },
      )
    },

    async oldestPendingSince(): Promise<Date | undefined> {
      const oldest = await outbox().findOne<Pick<OutboxRecord, 'createdAt'>>(
        { status: 'pending' },
        { projection: { createdAt: 1 }, sort: { createdAt: 1 } },
      )
      return oldest?.createdAt
    },
  }
}
