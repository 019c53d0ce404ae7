import { Types } from 'mongoose'
import type { Role } from '../db/user-model.js'
import { userQueries } from '../db/user-queries.js'
import { Forbidden, NotFound } from '../errors.js'
import type { DomainDeps, RequestContext } from './deps.js'
import type { Principal, Sessions } from './sessions.js'
import { toUserView, type SessionInfoView, type UserView } from './views.js'

/** What an admin may change about an account (at least one of them). */
export interface StandingChange {
  disabled?: boolean
  roles?: Role[]
  emailVerified?: boolean
}

/**
 * Account administration. Every action is recorded with the admin as its actor. An admin
 * cannot disable their own account nor drop their own admin role: whoever acts stays an admin
 * able to undo it, so no single request leaves the service without one (two admins demoting
 * each other at the same instant can; `pnpm admin:create` then promotes an account again).
 */
export function createAdministration(deps: DomainDeps, sessions: Sessions) {
  const users = userQueries(deps.db)
  const { audit } = deps

  async function userOrNotFound(id: Types.ObjectId) {
    const user = await users.findById(id)
    if (!user) throw new NotFound()
    return user
  }

  return {
    /**
     * Disabling and a change of roles are credential changes (with the rest of the change in
     * the same update): they end every session of the account, a login racing them included,
     * so no access token keeps claiming roles the account no longer has (other services
     * trust the token's `roles` until it expires). Marking an address verified ends none.
     */
    async update(
      actor: Principal,
      id: string,
      change: StandingChange,
      ctx: RequestContext,
    ): Promise<UserView> {
      const userId = new Types.ObjectId(id)
      if (actor.user._id.equals(userId)) {
        if (change.disabled === true || (change.roles && !change.roles.includes('admin')))
          throw new Forbidden()
      }
      const found =
        change.disabled === true || change.roles !== undefined
          ? await sessions.changeCredentials(userId, change)
          : await users.setStanding(userId, change)
      if (!found) throw new NotFound()
      await audit.record(
        { event: 'admin.update', outcome: 'success', userId, actorId: actor.user._id },
        ctx,
      )
      return toUserView(await userOrNotFound(userId))
    },

    async listSessions(id: string): Promise<SessionInfoView[]> {
      const user = await userOrNotFound(new Types.ObjectId(id))
      // No session of another account is the caller's own.
      return sessions.list(user._id, '')
    },

    /** Ends every session of the account, racing logins and refreshes included. */
    async endSessions(actor: Principal, id: string, ctx: RequestContext): Promise<void> {
      const userId = new Types.ObjectId(id)
      if (!(await sessions.changeCredentials(userId, {}))) throw new NotFound()
      await audit.record(
        { event: 'admin.sessions.revoke', outcome: 'success', userId, actorId: actor.user._id },
        ctx,
      )
    },
  }
}

export type Administration = ReturnType<typeof createAdministration>
