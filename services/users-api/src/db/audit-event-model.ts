import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const auditOutcomes = ['success', 'failure'] as const
export type AuditOutcome = (typeof auditOutcomes)[number]

/** One thing that happened to an account. Never a password, hash, token, code or secret. */
export interface AuditEventRecord {
  _id: Types.ObjectId
  at: Date
  event: string
  outcome: AuditOutcome
  /** The account the event is about; absent for a failed login to an unknown address. */
  userId?: Types.ObjectId
  /** Who acted: the admin for admin actions, else the user. */
  actorId?: Types.ObjectId
  ip: string
  userAgent: string
  requestId: string
  /** Retention: the TTL index removes the event here. */
  expiresAt: Date
}

const auditEventSchema = new Schema<AuditEventRecord>(
  {
    at: { type: Date, required: true },
    event: { type: String, required: true },
    outcome: { type: String, enum: auditOutcomes, required: true },
    userId: { type: Schema.Types.ObjectId },
    actorId: { type: Schema.Types.ObjectId },
    ip: { type: String, default: '' },
    userAgent: { type: String, default: '' },
    requestId: { type: String, default: '' },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)
// Newest first, per user and across all (ids grow with time: the _id orders within a millisecond).
auditEventSchema.index({ userId: 1, _id: -1 })
auditEventSchema.index({ event: 1, _id: -1 })

export type AuditEventModel = Model<AuditEventRecord>

export function auditEventModel(connection: Connection): AuditEventModel {
  return connection.model<AuditEventRecord>('AuditEvent', auditEventSchema, 'audit_events')
}
