import type { Types } from 'mongoose'
import { isDuplicateKey } from '../db/database.js'
import type { IdentityRecord } from '../db/identity-model.js'
import { identityQueries } from '../db/identity-queries.js'
import { LastLoginMethod, NotFound } from '../errors.js'
import type { ProviderProfile } from '../identity-providers/identity-provider.js'
import type { DomainDeps, RequestContext } from './deps.js'
import type { Principal, Sessions } from './sessions.js'

export interface IdentityView {
  provider: string
  subject: string
  email: string
  linkedAt: string
}

/** What a link came to: done (or already so), or refused because of an existing link. */
export type LinkOutcome = 'linked' | 'identity-taken' | 'provider-taken'

function toIdentityView(identity: IdentityRecord): IdentityView {
  return {
    provider: identity.provider,
    subject: identity.subject,
    email: identity.email,
    linkedAt: identity.linkedAt.toISOString(),
  }
}

/**
 * The one place identities are linked and unlinked, so each change is audited here
 * (`identity.link`, `identity.unlink`).
 */
export function createIdentities(deps: DomainDeps, sessions: Sessions) {
  const store = identityQueries(deps.db)

  return {
    find(provider: string, subject: string): Promise<IdentityRecord | null> {
      return store.find(provider, subject)
    },

    removeOrphan(identity: IdentityRecord): Promise<void> {
      return store.removeOrphan(identity)
    },

    async list(userId: Types.ObjectId): Promise<IdentityView[]> {
      return (await store.listByUser(userId)).map(toIdentityView)
    },

    /**
     * Links the provider account to the user. The unique indexes decide races: an identity
     * that belongs to another user, or a second identity at one provider, is refused.
     */
    async link(
      userId: Types.ObjectId,
      provider: string,
      profile: ProviderProfile,
      ctx: RequestContext,
    ): Promise<LinkOutcome> {
      try {
        await store.insert({
          provider,
          subject: profile.subject,
          userId,
          email: profile.email ?? '',
          linkedAt: deps.now(),
        })
      } catch (error) {
        if (!isDuplicateKey(error)) throw error
        const existing = await store.find(provider, profile.subject)
        if (existing?.userId.equals(userId)) return 'linked'
        await deps.audit.record({ event: 'identity.link', outcome: 'failure', userId }, ctx)
        return existing ? 'identity-taken' : 'provider-taken'
      }
      await deps.audit.record({ event: 'identity.link', outcome: 'success', userId }, ctx)
      return 'linked'
    },

    /**
     * Unlinks the caller's identity at a provider unless nothing would be left to sign in
     * with. The identity is removed first and put back when none remains, so two concurrent
     * unlinks of a passwordless account's last two identities cannot both succeed.
     */
    async unlink(principal: Principal, provider: string, ctx: RequestContext): Promise<void> {
      const userId = principal.user._id
      const removed = await store.removeOwned(userId, provider)
      if (!removed) throw new NotFound()
      const hasPassword = principal.user.hasPassword ?? true
      if (!hasPassword && (await store.countByUser(userId)) === 0) {
        await store.restore(removed)
        throw new LastLoginMethod()
      }
      // Whoever signed in with that identity is out: every other session ends (the caller's
      // stays), as after any other change of how the account signs in.
      await sessions.changeCredentials(userId, {}, principal.sessionId)
      await deps.audit.record({ event: 'identity.unlink', outcome: 'success', userId }, ctx)
    },

    /** Part of deleting a user. */
    removeAllOf(userId: Types.ObjectId): Promise<void> {
      return store.removeAllOfUser(userId)
    },
  }
}

export type Identities = ReturnType<typeof createIdentities>
