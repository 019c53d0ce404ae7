import { Schema, type Connection, type Model, type Types } from 'mongoose'

/**
 * One authorization round trip between start and callback: what the callback checks the
 * provider's answer against. Keyed by the SHA-256 of `state`, never the state itself.
 */
export interface OAuthStateRecord {
  _id: string
  provider: string
  /** OpenID Connect only. */
  nonce?: string
  codeVerifier: string
  redirectTo: string
  /**
   * A sign-in's binding to the browser that started it: the SHA-256 of the value in that
   * browser's cookie (never the value). Absent for a link.
   */
  browserHash?: string
  /** Set when a signed-in user links this provider: the identity goes to this user. */
  linkUserId?: Types.ObjectId
  /** The linking account's credential version at the start: a credential change since voids the link. */
  linkCredentialVersion?: number
  /** Ten minutes after the start (TTL index); single use. */
  expiresAt: Date
}

const oauthStateSchema = new Schema<OAuthStateRecord>(
  {
    _id: { type: String, required: true },
    provider: { type: String, required: true },
    nonce: { type: String },
    codeVerifier: { type: String, required: true },
    redirectTo: { type: String, required: true },
    browserHash: { type: String },
    linkUserId: { type: Schema.Types.ObjectId },
    linkCredentialVersion: { type: Number },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)

export type OAuthStateModel = Model<OAuthStateRecord>

export function oauthStateModel(connection: Connection): OAuthStateModel {
  return connection.model<OAuthStateRecord>('OAuthState', oauthStateSchema, 'oauth_states')
}
