import { Schema, type Connection, type Model, type Types } from 'mongoose'

/** An account's TOTP factor: one per account, pending until a first code confirms it. */
export interface MfaFactorRecord {
  /** The account's id. */
  _id: Types.ObjectId
  /** The TOTP secret sealed by auth-api (TOTP_ENCRYPTION_KEYS); never the secret itself. */
  ciphertext: string
  confirmed: boolean
  /** When the enrolment began: an unconfirmed one is refused after a while. */
  enrolledAt: Date
  /** The last accepted time step: a code of this step or an earlier one is a replay. */
  lastStep: number
  /** SHA-256 of each unused recovery code; a code leaves the list when used. */
  recoveryCodeHashes: string[]
}

const mfaFactorSchema = new Schema<MfaFactorRecord>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    ciphertext: { type: String, required: true },
    confirmed: { type: Boolean, required: true },
    enrolledAt: { type: Date, required: true },
    lastStep: { type: Number, required: true },
    recoveryCodeHashes: { type: [String], default: [] },
  },
  { strict: 'throw', versionKey: false },
)

export type MfaFactorModel = Model<MfaFactorRecord>

export function mfaFactorModel(connection: Connection): MfaFactorModel {
  return connection.model<MfaFactorRecord>('MfaFactor', mfaFactorSchema, 'mfa_factors')
}
