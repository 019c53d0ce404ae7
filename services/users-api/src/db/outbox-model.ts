import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const outboxStatuses = ['pending', 'sent', 'failed'] as const
export type OutboxStatus = (typeof outboxStatuses)[number]

/**
 * One mail waiting for, or done with, delivery. The body holds a link with a token, a secret:
 * it is removed once the mail is sent or given up, and never logged.
 */
export interface OutboxRecord {
  _id: Types.ObjectId
  to: string
  subject: string
  /** Removed once sent or given up. */
  text?: string
  html?: string
  status: OutboxStatus
  /** Due from here; a claim moves it on by the lease, so one sender holds it at a time. */
  nextAttemptAt: Date
  /** The claim of the sender working on it; its outcome counts only while it holds it. */
  leaseId?: string
  attempts: number
  /** The kind of the last failure (an error code or SMTP reply code), never its text. */
  lastError?: string
  createdAt: Date
  sentAt?: Date
  /** Kept until here (TTL index), then removed. */
  expiresAt: Date
}

const outboxSchema = new Schema<OutboxRecord>(
  {
    to: { type: String, required: true },
    subject: { type: String, required: true },
    text: { type: String },
    html: { type: String },
    status: { type: String, enum: outboxStatuses, required: true },
    nextAttemptAt: { type: Date, required: true },
    leaseId: { type: String },
    attempts: { type: Number, default: 0 },
    lastError: { type: String },
    createdAt: { type: Date, required: true },
    sentAt: { type: Date },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)
// The sender's claim: the oldest due pending mail.
outboxSchema.index({ status: 1, nextAttemptAt: 1 })

export type OutboxModel = Model<OutboxRecord>

export function outboxModel(connection: Connection): OutboxModel {
  return connection.model<OutboxRecord>('OutboxMail', outboxSchema, 'mail_outbox')
}
