import { Schema, type Connection, type Model, type Types } from 'mongoose'

export const roles = ['user', 'admin'] as const
export type Role = (typeof roles)[number]

export interface UserRecord {
  _id: Types.ObjectId
  email: string
  name: string
  /** argon2id PHC string; never selected unless asked for. */
  passwordHash: string
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
    passwordHash: { type: String, required: true, select: false },
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
