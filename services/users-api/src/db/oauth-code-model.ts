import { Schema, type Connection, type Model, type Types } from 'mongoose'

/**
 * The one-time code a social login's callback hands to the client (in the redirect's
 * fragment), exchanged for a session. Keyed by the SHA-256 of the code.
 */
export interface OAuthCodeRecord {
  _id: string
  userId: Types.ObjectId
  /** The identity that signed in: the exchange fails if it was unlinked meanwhile. */
  provider: string
  subject: string
  /** The user's credential version at the callback: a credential change voids the code. */
  credentialVersion: number
  /** When the provider's answer was accepted: the session's `auth_time`. */
  authTime: Date
  /** Sixty seconds after the callback (TTL index); single use. */
  expiresAt: Date
}

const oauthCodeSchema = new Schema<OAuthCodeRecord>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    provider: { type: String, required: true },
    subject: { type: String, required: true },
    credentialVersion: { type: Number, required: true },
    authTime: { type: Date, required: true },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)

export type OAuthCodeModel = Model<OAuthCodeRecord>

export function oauthCodeModel(connection: Connection): OAuthCodeModel {
  return connection.model<OAuthCodeRecord>('OAuthCode', oauthCodeSchema, 'oauth_codes')
}
