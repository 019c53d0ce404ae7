import { AuthApiRejectedError, type Amr } from '@users-auth/auth-contract'
import { withRetryAfter } from '@users-auth/service-kit'
import type { Types } from 'mongoose'
import type { MfaFactorRecord } from '../db/mfa-factor-model.js'
import { mfaQueries } from '../db/mfa-queries.js'
import { userQueries } from '../db/user-queries.js'
import { InvalidMfaCode, MfaAlreadyOn, NotFound, RateLimited, ValidationFailed } from '../errors.js'
import type { Accounts } from './accounts.js'
import type { DomainDeps, RequestContext } from './deps.js'
import { hashMfaToken, mfaTokenMaxAttempts } from './mfa-challenges.js'
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from './recovery-codes.js'
import { versionOf, type Principal, type Sessions } from './sessions.js'
import type { SignIn } from './sign-in.js'
import type { SessionView } from './views.js'

/** An enrolment not confirmed within this long must start again. */
export const enrolmentTtlMs = 15 * 60_000

const totpCode = /^[0-9]{6}$/

/** A code that passed: a TOTP code (its step, the secret's current ciphertext) or a recovery code. */
type AcceptedCode = { kind: 'otp'; step: number; ciphertext: string } | { kind: 'recovery' }

/**
 * The second factor: TOTP enrolment, confirmation, turning it off, recovery codes, and the
 * sign-in step that completes an mfaToken. auth-api holds the key and checks codes; this
 * module stores only ciphertext, the last accepted step and hashes of recovery codes.
 */
export function createSecondFactor(
  deps: DomainDeps,
  sessions: Sessions,
  signIn: SignIn,
  accounts: Accounts,
) {
  const { authApi, codeThrottle, audit } = deps
  const store = mfaQueries(deps.db)
  const users = userQueries(deps.db)

  /**
   * Checks a code of the account under its code budget (not the password lockout): the
   * attempt is reserved first, refused with 429 while the budget is spent, and given back
   * when the check never reached a verdict.
   */
  async function checkCode(
    userId: Types.ObjectId,
    code: string,
    ctx: RequestContext,
    pending?: MfaFactorRecord,
  ): Promise<AcceptedCode | undefined> {
    const account = userId.toString()
    const verdict = await codeThrottle.reserve(account, ctx.ip)
    if (!verdict.allowed) throw withRetryAfter(new RateLimited(), verdict.retryAfterMs / 1000)
    let accepted: AcceptedCode | undefined
    try {
      accepted = await judge(userId, code, ctx, pending)
    } catch (error) {
      await codeThrottle.release(account, ctx.ip).catch(() => undefined)
      throw error
    }
    if (accepted) await codeThrottle.success(account, ctx.ip)
    else codeThrottle.failure(account, ctx.ip)
    return accepted
  }

  async function judge(
    userId: Types.ObjectId,
    code: string,
    ctx: RequestContext,
    pending?: MfaFactorRecord,
  ): Promise<AcceptedCode | undefined> {
    const factor = pending ?? (await store.findFactor(userId))
    if (!factor || (!pending && !factor.confirmed)) return undefined
    if (totpCode.test(code)) {
      let answer
      try {
        answer = await authApi.verifyTotp(
          { ciphertext: factor.ciphertext, code, afterStep: factor.lastStep },
          { requestId: ctx.requestId },
        )
      } catch (error) {
        // A secret no configured key opens (its key was removed): no TOTP code can pass,
        // recovery codes still can.
        if (error instanceof AuthApiRejectedError && error.status === 400) return undefined
        throw error
      }
      if (!answer.valid || answer.step === null) return undefined
      const ciphertext = answer.ciphertext ?? factor.ciphertext
      // A pending factor is rewritten whole by its confirmation.
      if (pending) return { kind: 'otp', step: answer.step, ciphertext }
      if (!(await store.acceptStep(userId, answer.step))) return undefined
      if (answer.ciphertext) await store.replaceCiphertext(userId, factor.ciphertext, ciphertext)
      return { kind: 'otp', step: answer.step, ciphertext }
    }
    const normalized = normalizeRecoveryCode(code)
    if (!normalized || pending) return undefined
    const used = await store.useRecoveryCode(userId, hashRecoveryCode(userId, normalized))
    return used ? { kind: 'recovery' } : undefined
  }

  function issueRecoveryCodes(userId: Types.ObjectId): { codes: string[]; hashes: string[] } {
    const codes = newRecoveryCodes()
    return { codes, hashes: codes.map((c) => hashRecoveryCode(userId, c.replaceAll('-', ''))) }
  }

  return {
    /**
     * Starts an enrolment: the password first (through the same lockout as every password
     * check) when the account has one. The secret is shown once; only its ciphertext is kept.
     */
    async enrol(
      principal: Principal,
      password: string | undefined,
      ctx: RequestContext,
    ): Promise<{ secret: string; otpauthUri: string }> {
      const { user } = principal
      if (user.mfaEnabled === true) throw new MfaAlreadyOn()
      if (user.hasPassword !== false) {
        if (password === undefined) {
          throw Object.assign(new ValidationFailed(), {
            errors: [{ path: '/password', message: 'is required for an account with a password' }],
          })
        }
        await accounts.requirePassword(principal, password, '/password', ctx)
      }
      const enrolled = await authApi.enrollTotp(
        { accountName: user.email, issuer: deps.totpIssuer },
        { requestId: ctx.requestId },
      )
      if (!(await store.beginEnrolment(user._id, enrolled.ciphertext, deps.now())))
        throw new MfaAlreadyOn()
      return { secret: enrolled.secret, otpauthUri: enrolled.otpauthUri }
    },

    /** The first code turns the factor on, and every other session of the account ends. */
    async confirm(
      principal: Principal,
      code: string,
      ctx: RequestContext,
    ): Promise<{ recoveryCodes: string[] }> {
      const userId = principal.user._id
      const factor = await store.findFactor(userId)
      const fresh =
        factor !== null &&
        !factor.confirmed &&
        deps.now().getTime() - factor.enrolledAt.getTime() < enrolmentTtlMs
      if (!fresh || principal.user.mfaEnabled === true) throw new InvalidMfaCode()
      const accepted = await checkCode(userId, code, ctx, factor)
      if (accepted?.kind !== 'otp') throw new InvalidMfaCode()
      const { codes, hashes } = issueRecoveryCodes(userId)
      const confirmed = await store.confirm(userId, factor.ciphertext, {
        ciphertext: accepted.ciphertext,
        lastStep: accepted.step,
        recoveryCodeHashes: hashes,
      })
      if (!confirmed) throw new InvalidMfaCode()
      await sessions.changeCredentials(userId, { mfaEnabled: true }, principal.sessionId)
      await audit.record({ event: 'mfa.enable', outcome: 'success', userId }, ctx)
      return { recoveryCodes: codes }
    },

    /** A TOTP or recovery code turns the factor off; every other session ends. */
    async disable(principal: Principal, code: string, ctx: RequestContext): Promise<void> {
      const userId = principal.user._id
      if (principal.user.mfaEnabled !== true) throw new NotFound()
      if (!(await checkCode(userId, code, ctx))) throw new InvalidMfaCode()
      // The flag goes first: an interruption leaves a factor nobody is asked for, never an
      // account that asks for a factor it no longer has.
      await sessions.changeCredentials(userId, { mfaEnabled: false }, principal.sessionId)
      await store.deleteFactor(userId)
      await audit.record({ event: 'mfa.disable', outcome: 'success', userId }, ctx)
    },

    /** A TOTP or recovery code replaces every recovery code with ten new ones. */
    async regenerateRecoveryCodes(
      principal: Principal,
      code: string,
      ctx: RequestContext,
    ): Promise<{ recoveryCodes: string[] }> {
      const userId = principal.user._id
      if (principal.user.mfaEnabled !== true) throw new NotFound()
      if (!(await checkCode(userId, code, ctx))) throw new InvalidMfaCode()
      const { codes, hashes } = issueRecoveryCodes(userId)
      if (!(await store.replaceRecoveryCodes(userId, hashes))) throw new NotFound()
      await audit.record({ event: 'mfa.recovery_codes', outcome: 'success', userId }, ctx)
      return { recoveryCodes: codes }
    },

    /**
     * Completes a sign-in that answered MFA_REQUIRED. Each attempt is counted on the token
     * before the code is checked (5 at most, however many arrive at once) and against the
     * account's code budget; the token is used up by the one request that succeeds, and is
     * dead once the account's credentials changed after it was issued.
     */
    async verify(mfaToken: string, code: string, ctx: RequestContext): Promise<SessionView> {
      const tokenHash = hashMfaToken(mfaToken)
      const challenge = await store.claimAttempt(tokenHash, deps.now(), mfaTokenMaxAttempts)
      if (!challenge) throw new InvalidMfaCode()
      const user = await users.findById(challenge.userId)
      if (!user || user.mfaEnabled !== true || versionOf(user) !== challenge.credentialVersion) {
        await store.consumeChallenge(tokenHash)
        throw new InvalidMfaCode()
      }
      let accepted
      try {
        accepted = await checkCode(user._id, code, ctx)
      } catch (error) {
        await store.returnAttempt(tokenHash).catch(() => undefined)
        throw error
      }
      if (!accepted) {
        if (challenge.attempts >= mfaTokenMaxAttempts) await store.consumeChallenge(tokenHash)
        await audit.record({ event: 'mfa.challenge', outcome: 'failure', userId: user._id }, ctx)
        throw new InvalidMfaCode()
      }
      if (!(await store.consumeChallenge(tokenHash))) throw new InvalidMfaCode()
      // RFC 8176 has no value for a recovery code: it counts as a second factor ('mfa') that
      // is not a one-time password from the enrolled device ('otp').
      const second: Amr[] = accepted.kind === 'otp' ? ['otp', 'mfa'] : ['mfa']
      const amr = [...new Set<Amr>([...challenge.amr, ...second])]
      return signIn.complete(user, { amr }, ctx)
    },
  }
}

export type SecondFactor = ReturnType<typeof createSecondFactor>
