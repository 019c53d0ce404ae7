import type { Database } from './database.js'
import type { OAuthCodeRecord } from './oauth-code-model.js'
import type { OAuthStateRecord } from './oauth-state-model.js'

/** The social login round trip's short-lived records: each is taken by one conditional write. */
export function oauthQueries({ oauthStates, oauthCodes }: Database) {
  return {
    async saveState(state: OAuthStateRecord): Promise<void> {
      await oauthStates.create(state)
    },

    /** The live state with this hash for this provider, deleted in the same write: one use. */
    consumeState(stateHash: string, provider: string, now: Date): Promise<OAuthStateRecord | null> {
      return oauthStates
        .findOneAndDelete({ _id: stateHash, provider, expiresAt: { $gt: now } })
        .lean<OAuthStateRecord>()
        .exec()
    },

    async saveCode(code: OAuthCodeRecord): Promise<void> {
      await oauthCodes.create(code)
    },

    consumeCode(codeHash: string, now: Date): Promise<OAuthCodeRecord | null> {
      return oauthCodes
        .findOneAndDelete({ _id: codeHash, expiresAt: { $gt: now } })
        .lean<OAuthCodeRecord>()
        .exec()
    },
  }
}
