import { AccountDisabled, EmailNotVerified, MfaRequired } from '../errors.js'
import type { Audit } from './audit.js'
import type { RequestContext } from './deps.js'
import type { MfaChallenges } from './mfa-challenges.js'
import { sessionIdOf } from './refresh-tokens.js'
import type { TokenResponse } from '@users-auth/auth-contract'
import type { PendingSession, Sessions, SessionUser, SignInMethod } from './sessions.js'
import type { SessionView } from './views.js'

/**
 * The last step of every sign-in, whatever proved the user's identity (a password, a provider,
 * a second factor): the account's standing decides here, in one place, whether a session
 * starts. Callers reach it only after the credential was checked, so its refusals reveal
 * nothing to someone who does not hold that credential.
 */
export function createSignIn(
  sessions: Sessions,
  audit: Audit,
  challenges: MfaChallenges,
  options: { requireEmailVerification?: boolean } = {},
) {
  return {
    async complete(
      user: SessionUser,
      method: SignInMethod,
      ctx: RequestContext,
      /** The session's first token, minted with the password check; unused if none starts. */
      minted?: { pending: PendingSession; token: TokenResponse },
    ): Promise<SessionView> {
      if (user.disabled === true) throw new AccountDisabled()
      if (options.requireEmailVerification === true && user.emailVerified !== true)
        throw new EmailNotVerified()
      // With a second factor on, no session starts until a code completes the sign-in.
      if (user.mfaEnabled === true && !method.amr.includes('mfa')) {
        const mfaToken = await challenges.issue(user, method, ctx)
        throw Object.assign(new MfaRequired(), { mfaToken })
      }
      const session = await sessions.start(user, method, ctx, minted)
      try {
        // Every sign-in method ends here: its success is recorded once, here.
        await audit.record({ event: 'login', outcome: 'success', userId: user._id }, ctx)
      } catch (error) {
        // A session nobody was told about, and no record of it: neither stays behind.
        const sessionId = sessionIdOf(session.refreshToken)
        if (sessionId) await sessions.end(sessionId).catch(() => undefined)
        throw error
      }
      return session
    },
  }
}

export type SignIn = ReturnType<typeof createSignIn>
