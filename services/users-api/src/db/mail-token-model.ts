import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const mailTokenPurposes = ['verify-email', 'reset-password', 'change-email'] as const
export type MailTokenPurpose = (typeof mailTokenPurposes)[number]

/** A token sent by mail. Only its SHA-256 is stored: the token itself lives in the mail. */
export interface MailTokenRecord {
  /** SHA-256 (hex) of the token. */
  _id: string
  purpose: MailTokenPurpose
  userId: Types.ObjectId
  /** The address the token was sent for (verify-email: the one it proves). */
  email: string
  /** change-email: the address the account moves to. */
  newEmail?: string
  /** change-email: the session that asked, which the change keeps. */
  sessionId?: string
  /** The account's credential version at issue: any credential change since kills the token. */
  credentialVersion: number
  /** Dead from here (reads check it; the TTL index removes it later). */
  expiresAt: Date
}

const mailTokenSchema = new Schema<MailTokenRecord>(
  {
    _id: { type: String, required: true },
    purpose: { type: String, enum: mailTokenPurposes, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    email: { type: String, required: true },
    newEmail: { type: String },
    sessionId: { type: String },
    credentialVersion: { type: Number, required: true },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)
// A newer token voids the older ones of its kind: found by account and purpose.
mailTokenSchema.index({ userId: 1, purpose: 1 })

export type MailTokenModel = Model<MailTokenRecord>

export function mailTokenModel(connection: Connection): MailTokenModel {
  return connection.model<MailTokenRecord>('MailToken', mailTokenSchema, 'mail_tokens')
}
