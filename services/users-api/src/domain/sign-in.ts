import { AccountDisabled, MfaRequired } from '../errors.js'
import type { RequestContext } from './deps.js'
import type { MfaChallenges } from './mfa-challenges.js'
import type { Sessions, SessionUser, SignInMethod } from './sessions.js'
import type { SessionView } from './views.js'

/**
 * The last step of every sign-in, whatever proved the user's identity (a password, a provider,
 * a second factor): the account's standing decides here, in one place, whether a session
 * starts. Callers reach it only after the credential was checked, so its refusals reveal
 * nothing to someone who does not hold that credential.
 */
export function createSignIn(sessions: Sessions, challenges: MfaChallenges) {
  return {
    async complete(
      user: SessionUser,
      method: SignInMethod,
      ctx: RequestContext,
    ): Promise<SessionView> {
      if (user.disabled === true) throw new AccountDisabled()
      // With a second factor on, no session starts until a code completes the sign-in.
      if (user.mfaEnabled === true && !method.amr.includes('mfa')) {
        const mfaToken = await challenges.issue(user, method, ctx)
        throw Object.assign(new MfaRequired(), { mfaToken })
      }
      return sessions.start(user, method, ctx)
    },
  }
}

export type SignIn = ReturnType<typeof createSignIn>
