import { Schema, type Connection, type Model, type Types } from 'mongoose'

/** A provider account linked to a user: `(provider, subject)` signs that user in. */
export interface IdentityRecord {
  _id: Types.ObjectId
  provider: string
  /** The provider's stable id for its user. */
  subject: string
  userId: Types.ObjectId
  /** The address the provider gave when the identity was linked (for display). */
  email: string
  linkedAt: Date
}

const identitySchema = new Schema<IdentityRecord>(
  {
    provider: { type: String, required: true },
    subject: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    email: { type: String, default: '' },
    linkedAt: { type: Date, required: true },
  },
  { strict: 'throw', versionKey: false },
)
// One user per provider account; one account per provider and user (unlinking is by provider).
identitySchema.index({ provider: 1, subject: 1 }, { unique: true })
identitySchema.index({ userId: 1, provider: 1 }, { unique: true })

export type IdentityModel = Model<IdentityRecord>

export function identityModel(connection: Connection): IdentityModel {
  return connection.model<IdentityRecord>('Identity', identitySchema, 'identities')
}
