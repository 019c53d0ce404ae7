import { isDuplicateKey } from '../db/database.js'
import { mailTokenQueries } from '../db/mail-token-queries.js'
import { userQueries } from '../db/user-queries.js'
import { EmailTaken, InvalidToken, WrongPassword } from '../errors.js'
import { invalid, normalizeEmail, type Accounts } from './accounts.js'
import type { DomainDeps, RequestContext } from './deps.js'
import type { Mailer } from './mailer.js'
import { hashMailToken, mailTokenTtlMs, newMailToken } from './mail-tokens.js'
import { versionOf, type Principal, type Sessions } from './sessions.js'
import { toUserView, type UserView } from './views.js'

/**
 * Moving an account to another address: asked with the password, confirmed from the new
 * address (a link mailed there), announced to the old one. The unique index decides at
 * confirmation whether the address is still free.
 */
export function createEmailChange(
  deps: DomainDeps,
  mailer: Mailer,
  sessions: Sessions,
  accounts: Accounts,
) {
  const tokens = mailTokenQueries(deps.db)
  const users = userQueries(deps.db)

  return {
    async request(
      principal: Principal,
      input: { newEmail: string; password: string },
      ctx: RequestContext,
    ): Promise<void> {
      const newEmail = normalizeEmail(input.newEmail)
      const { user } = principal
      if (newEmail === user.email) {
        throw invalid([{ path: '/newEmail', message: 'is already the address of this account' }])
      }
      if (!(await accounts.passwordMatches(principal, input.password, '/password', ctx)))
        throw new WrongPassword()
      if (!(await mailer.allowance(newEmail))) return
      const { token, hash } = newMailToken()
      await tokens.replace({
        _id: hash,
        purpose: 'change-email',
        userId: user._id,
        email: user.email,
        newEmail,
        sessionId: principal.sessionId,
        credentialVersion: versionOf(user),
        expiresAt: new Date(deps.now().getTime() + mailTokenTtlMs['change-email']),
      })
      await mailer.queue(
        newEmail,
        { kind: 'confirm-email-change', link: mailer.link('confirm-email', token), newEmail },
        ctx,
      )
      // Never budgeted: it follows a request that passed the password check, and a drained
      // budget must not hide a change from the address's owner.
      await mailer.queue(user.email, { kind: 'email-change-notice', newEmail }, ctx)
    },

    /** The address becomes the account's, verified; every session but the asking one ends. */
    async confirm(token: string, ctx: RequestContext): Promise<UserView> {
      const used = await tokens.consume(hashMailToken(token), 'change-email', deps.now())
      if (!used?.newEmail) throw new InvalidToken()
      const user = await users.findById(used.userId)
      if (!user || versionOf(user) !== used.credentialVersion || user.email !== used.email)
        throw new InvalidToken()
      try {
        const changed = await sessions.changeCredentials(
          user._id,
          { email: used.newEmail, emailVerified: true },
          used.sessionId,
          used.credentialVersion,
        )
        if (!changed) throw new InvalidToken()
      } catch (error) {
        if (!isDuplicateKey(error)) throw error
        await deps.audit.record(
          { event: 'email.change', outcome: 'failure', userId: user._id },
          ctx,
        )
        throw new EmailTaken()
      }
      await tokens.voidAll(user._id, 'verify-email')
      await deps.audit.record({ event: 'email.change', outcome: 'success', userId: user._id }, ctx)
      const changed = await users.findById(user._id)
      if (!changed) throw new InvalidToken()
      return toUserView(changed)
    },
  }
}

export type EmailChange = ReturnType<typeof createEmailChange>
