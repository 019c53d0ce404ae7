import { AccountDisabled, EmailNotVerified } from '../errors.js'
import type { RequestContext } from './deps.js'
import type { Sessions, SessionUser, SignInMethod } from './sessions.js'
import type { SessionView } from './views.js'

/**
 * The last step of every sign-in, whatever proved the user's identity (a password, a provider,
 * a second factor): the account's standing decides here, in one place, whether a session
 * starts. Callers reach it only after the credential was checked, so its refusals reveal
 * nothing to someone who does not hold that credential.
 */
export function createSignIn(
  sessions: Sessions,
  options: { requireEmailVerification?: boolean } = {},
) {
  return {
    async complete(
      user: SessionUser,
      method: SignInMethod,
      ctx: RequestContext,
    ): Promise<SessionView> {
      if (user.disabled === true) throw new AccountDisabled()
      if (options.requireEmailVerification === true && user.emailVerified !== true)
        throw new EmailNotVerified()
      return sessions.start(user, method, ctx)
    },
  }
}

export type SignIn = ReturnType<typeof createSignIn>
