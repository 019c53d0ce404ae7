import type { Amr } from '@users-auth/auth-contract'
import { Schema, type Connection, type Model, type Types } from 'mongoose'

export interface SessionRecord {
  /** Random id; also the `sid` claim of the session's access tokens. */
  _id: string
  userId: Types.ObjectId
  /** SHA-256 of the current refresh token; the token itself is never stored. */
  refreshTokenHash: string
  /**
   * Hashes of every refresh token this session rotated: presenting one again is a replay, however
   * long ago it was rotated. Never read whole: only searched for one hash.
   */
  rotatedTokenHashes: string[]
  /** How many rotations the session has had (absent on sessions from before it was counted). */
  rotations?: number
  createdAt: Date
  lastUsedAt: Date
  userAgent: string
  ip: string
  /**
   * The session dies here unless a refresh moves it on (TTL index); never later than the
   * absolute lifetime after `createdAt`.
   */
  expiresAt: Date
  /** The user's credential version when the session started: dead once the user's moves on. */
  credentialVersion: number
  /** How the user signed in (RFC 8176 values), carried by every access token of the session. */
  amr?: Amr[]
  /** When the user signed in (the `auth_time` claim); refreshes keep it. */
  authTime?: Date
  /**
   * The last rotation, kept only while a reuse grace is configured: the hash of the token it
   * retired, when, and the pair it returned, sealed under a key only that token yields.
   */
  previousTokenHash?: string
  previousRotatedAt?: Date
  previousPair?: string
}

const sessionSchema = new Schema<SessionRecord>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    refreshTokenHash: { type: String, required: true },
    rotatedTokenHashes: { type: [String], default: [] },
    rotations: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    userAgent: { type: String, default: '' },
    ip: { type: String, default: '' },
    expiresAt: { type: Date, required: true, expires: 0 },
    credentialVersion: { type: Number, default: 0 },
    amr: { type: [String], default: undefined },
    authTime: { type: Date },
    previousTokenHash: { type: String },
    previousRotatedAt: { type: Date },
    previousPair: { type: String },
  },
  { strict: 'throw', versionKey: false },
)

/** A session as read for a refresh or a listing: without its (long) list of retired hashes. */
export type SessionState = Omit<SessionRecord, 'rotatedTokenHashes'>

export type SessionModel = Model<SessionRecord>

export function sessionModel(connection: Connection): SessionModel {
  return connection.model<SessionRecord>('Session', sessionSchema, 'sessions')
}
