import type { FastifyBaseLogger } from 'fastify'
import { identityQueries } from '../db/identity-queries.js'
import { mailTokenQueries } from '../db/mail-token-queries.js'
import { mfaQueries } from '../db/mfa-queries.js'
import { userQueries } from '../db/user-queries.js'
import { InvalidToken } from '../errors.js'
import { invalid, normalizeEmail, passwordForAuthApi } from './accounts.js'
import type { DomainDeps, RequestContext } from './deps.js'
import type { Mailer } from './mailer.js'
import { hashMailToken, mailTokenTtlMs, newMailToken } from './mail-tokens.js'
import { passwordProblem } from './password-policy.js'
import { versionOf, type Sessions } from './sessions.js'

/**
 * Forgot and reset. Forgot answers before it does anything that depends on the address, so
 * its answer and its time are the same for every address; the lookup and the mail follow.
 * A reset token is bound to the account's credential version at issue: any credential change
 * since (a password change, another reset, an email change) kills it.
 */
export function createPasswordReset(
  deps: DomainDeps,
  mailer: Mailer,
  sessions: Sessions,
  logger: FastifyBaseLogger,
) {
  const tokens = mailTokenQueries(deps.db)
  const users = userQueries(deps.db)
  // Work that runs after its answer was sent: the service waits for it before it closes.
  const pending = new Set<Promise<void>>()

  async function mailResetLink(email: string, ctx: RequestContext): Promise<void> {
    // The same steps for every address, up to the point where there is nothing to mail.
    const user = await users.findForLogin(email)
    // No mail, no charge: an address nobody has never spends its budget (that would let
    // anyone drain the budget of an address before its owner signs up).
    if (!user || !(await mailer.allowance(email))) return
    const { token, hash } = newMailToken()
    await tokens.replace({
      _id: hash,
      purpose: 'reset-password',
      userId: user._id,
      email: user.email,
      credentialVersion: versionOf(user),
      expiresAt: new Date(deps.now().getTime() + mailTokenTtlMs['reset-password']),
    })
    await mailer.queue(
      user.email,
      { kind: 'reset-password', link: mailer.link('reset-password', token) },
      ctx,
    )
    await deps.audit.record({ event: 'password.forgot', outcome: 'success', userId: user._id }, ctx)
  }

  return {
    /** Call once the answer is sent. Failures are logged: the client was already answered. */
    forgotAfterAnswer(rawEmail: string, ctx: RequestContext): void {
      const work = mailResetLink(normalizeEmail(rawEmail), ctx).catch((error: unknown) => {
        logger.error({ err: error, reqId: ctx.requestId }, 'forgot-password: mail not queued')
      })
      pending.add(work)
      void work.finally(() => pending.delete(work))
    },

    /** Resolves once every forgot-password request answered so far has done its work. */
    async settled(): Promise<void> {
      await Promise.all([...pending])
    },

    /**
     * Sets the password (the policy applies), marks the address verified (the mail reached
     * it) and ends every session. The token is used only once the new password passed.
     */
    async reset(token: string, newPassword: string, ctx: RequestContext): Promise<void> {
      const hash = hashMailToken(token)
      const found = await tokens.findLive(hash, 'reset-password', deps.now())
      if (!found) throw new InvalidToken()
      const user = await users.findById(found.userId)
      if (!user || versionOf(user) !== found.credentialVersion) throw new InvalidToken()
      const normalized = passwordForAuthApi(newPassword, '/newPassword')
      const problem = passwordProblem(newPassword, user, deps.passwordPolicy)
      if (problem) throw invalid([{ path: '/newPassword', message: problem }])
      const passwordHash = await deps.authApi.hashPassword(normalized, {
        requestId: ctx.requestId,
      })
      // One conditional delete: of concurrent resets with one token, one goes on.
      if (!(await tokens.consume(hash, 'reset-password', deps.now()))) throw new InvalidToken()
      // A reset that proves the address for the first time takes the account back: whatever
      // way in was added before anyone proved it (a linked provider identity, a second factor)
      // may be an intruder's, who registered the address before its owner did. They go
      // before the credential change, which then ends any session they started meanwhile.
      const takeBack = user.emailVerified !== true
      if (takeBack) {
        await identityQueries(deps.db).removeAllOfUser(user._id)
        await mfaQueries(deps.db).deleteFactor(user._id)
      }
      // Only at the version the token was issued at: a password change that raced this reset
      // (after the check above, during the hash) wins, and the token is dead.
      const changed = await sessions.changeCredentials(
        user._id,
        {
          passwordHash,
          hasPassword: true,
          passwordChangedAt: deps.now(),
          emailVerified: true,
          ...(takeBack ? { mfaEnabled: false } : {}),
        },
        undefined,
        found.credentialVersion,
      )
      if (!changed) throw new InvalidToken()
      await tokens.voidAll(user._id, 'reset-password')
      await deps.audit.record(
        { event: 'password.reset', outcome: 'success', userId: user._id },
        ctx,
      )
    },
  }
}

export type PasswordReset = ReturnType<typeof createPasswordReset>
