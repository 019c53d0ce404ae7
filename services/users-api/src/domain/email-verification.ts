import { mailTokenQueries } from '../db/mail-token-queries.js'
import type { SessionUser } from '../db/user-queries.js'
import { InvalidToken } from '../errors.js'
import type { DomainDeps, RequestContext } from './deps.js'
import type { Mailer } from './mailer.js'
import { hashMailToken, mailTokenTtlMs, newMailToken } from './mail-tokens.js'
import { toUserView, type UserView } from './views.js'

/**
 * Proving an address: a token mailed to it, bound to the account and to that address (it dies
 * when the address changes), used once.
 */
export function createEmailVerification(deps: DomainDeps, mailer: Mailer) {
  const tokens = mailTokenQueries(deps.db)

  return {
    /**
     * Mails a fresh link (voiding older ones), unless verified already or the budget is spent.
     * `newAccount`: the account was made by this request, so it has no older link to void.
     */
    async send(user: SessionUser, ctx: RequestContext, newAccount = false): Promise<void> {
      if (user.emailVerified === true) return
      if (!(await mailer.allowance(user.email))) return
      const { token, hash } = newMailToken()
      const record = {
        _id: hash,
        purpose: 'verify-email' as const,
        userId: user._id,
        email: user.email,
        credentialVersion: user.credentialVersion,
        expiresAt: new Date(deps.now().getTime() + mailTokenTtlMs['verify-email']),
      }
      await (newAccount ? tokens.insertFirst(record) : tokens.replace(record))
      await mailer.queue(
        user.email,
        { kind: 'verify-email', link: mailer.link('verify-email', token) },
        ctx,
      )
    },

    async verify(token: string, ctx: RequestContext): Promise<UserView> {
      const used = await tokens.consume(hashMailToken(token), 'verify-email', deps.now())
      if (!used) throw new InvalidToken()
      const user = await tokens.markEmailVerified(used.userId, used.email)
      if (!user) throw new InvalidToken()
      await deps.audit.record({ event: 'email.verify', outcome: 'success', userId: user._id }, ctx)
      return toUserView(user)
    },
  }
}

export type EmailVerification = ReturnType<typeof createEmailVerification>
