import type { Amr } from '@users-auth/auth-contract'
import { Schema, type Connection, type Model, type Types } from 'mongoose'

/** A sign-in waiting for its second factor: what the `mfaToken` of MFA_REQUIRED stands for. */
export interface MfaChallengeRecord {
  /** SHA-256 of the mfaToken; the token itself is never stored. */
  _id: string
  userId: Types.ObjectId
  /** How the first step signed in (`pwd`, `fed`). */
  amr: Amr[]
  /** The account's credential version at the first step: a credential change kills the token. */
  credentialVersion: number
  /** Codes tried with this token so far (each counted before it is checked). */
  attempts: number
  expiresAt: Date
}

const mfaChallengeSchema = new Schema<MfaChallengeRecord>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    amr: { type: [String], required: true },
    credentialVersion: { type: Number, required: true },
    attempts: { type: Number, required: true },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)

export type MfaChallengeModel = Model<MfaChallengeRecord>

export function mfaChallengeModel(connection: Connection): MfaChallengeModel {
  return connection.model<MfaChallengeRecord>('MfaChallenge', mfaChallengeSchema, 'mfa_challenges')
}
