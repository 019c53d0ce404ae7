import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const roles = ['user', 'admin'] as const
export type Role = (typeof roles)[number]

export interface UserRecord {
  _id: Types.ObjectId
  email: string
  name: string
  /** argon2id PHC string; never selected unless asked for. Absent for social-login-only accounts. */
  passwordHash?: string
  // The four flags are absent on accounts stored before they existed: read them with their
  // defaults (hasPassword true, the others false), as `toUserView` does.
  /** Whether `passwordHash` is set: read with the user without selecting the hash. */
  hasPassword?: boolean
  emailVerified?: boolean
  mfaEnabled?: boolean
  /** Set by an admin: no login, refresh or token of the account works. */
  disabled?: boolean
  roles: Role[]
  passwordChangedAt: Date
  /**
   * Raised by every credential change (password, email, second factor, disable). A session
   * carries the version it was started under and is dead once they differ.
   */
  credentialVersion: number
  createdAt: Date
  updatedAt: Date
}

const userSchema = new Schema<UserRecord>(
  {
    // Normalised by the domain before it gets here; the unique index is the one guarantee.
    email: { type: String, required: true, unique: true },
    name: { type: String, default: '' },
    passwordHash: { type: String, select: false },
    hasPassword: { type: Boolean, default: true },
    emailVerified: { type: Boolean, default: false },
    mfaEnabled: { type: Boolean, default: false },
    disabled: { type: Boolean, default: false },
    roles: { type: [String], enum: roles, default: ['user'] },
    passwordChangedAt: { type: Date, required: true },
    credentialVersion: { type: Number, default: 0 },
  },
  { timestamps: true, strict: 'throw', versionKey: false },
)

export type UserModel = Model<UserRecord>

export function userModel(connection: Connection): UserModel {
  return connection.model<UserRecord>('User', userSchema, 'users')
}
