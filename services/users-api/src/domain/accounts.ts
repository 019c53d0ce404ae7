import { withRetryAfter, type ValidationIssue } from '@users-auth/service-kit'
import { Types } from 'mongoose'
import { isDuplicateKey } from '../db/database.js'
import { identityQueries } from '../db/identity-queries.js'
import { mfaQueries } from '../db/mfa-queries.js'
import { userQueries } from '../db/user-queries.js'
import {
  EmailTaken,
  Forbidden,
  InvalidCredentials,
  NotFound,
  RateLimited,
  ValidationFailed,
  WrongPassword,
} from '../errors.js'
import type { DomainDeps, RequestContext } from './deps.js'
import { normalizePassword, passwordProblem, type PasswordOwner } from './password-policy.js'
import type { Principal, Sessions, SessionUser } from './sessions.js'
import type { SignIn } from './sign-in.js'
import { toUserView, type SessionView, type UserView } from './views.js'

export interface SignupInput {
  email: string
  password: string
  name?: string
}

/** Trimmed and lower-cased before it is stored or looked up. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export function invalid(issues: ValidationIssue[]): Error {
  return Object.assign(new ValidationFailed(), { errors: issues })
}

/** auth-api takes passwords of at most this many bytes of UTF-8. */
export const maxPasswordBytes = 1024

// A surrogate outside a pair: what `String.prototype.isWellFormed` (ES2024) refuses.
const loneSurrogate = /\p{Cs}/u

/**
 * The password as auth-api gets it (NFKC), refused with a 400 naming the field when it is
 * longer than auth-api accepts: NFKC can lengthen a string, so the check follows it. Lone
 * surrogates are refused too: UTF-8 encoding turns each into U+FFFD, so different passwords
 * would otherwise open the same account.
 */
export function passwordForAuthApi(password: string, path: string): string {
  if (loneSurrogate.test(password)) {
    throw invalid([{ path, message: 'must be well-formed Unicode (no lone surrogates)' }])
  }
  const normalized = normalizePassword(password)
  if (Buffer.byteLength(normalized, 'utf8') > maxPasswordBytes) {
    throw invalid([{ path, message: `must be at most ${maxPasswordBytes} bytes of UTF-8` }])
  }
  return normalized
}

/** What signup does about the new address (mails a verification link). */
export interface SignupEmail {
  /** Called in the signup request, after the account is stored; a failure undoes the signup. */
  welcome: (user: SessionUser, ctx: RequestContext) => Promise<void>
  /** Signup then answers `{user}` without tokens: the address must be verified first. */
  requireVerification: boolean
}

export function createAccounts(
  deps: DomainDeps,
  sessions: Sessions,
  signIn: SignIn,
  signupEmail?: SignupEmail,
) {
  const { authApi, throttle, audit } = deps
  const users = userQueries(deps.db)
  const identities = identityQueries(deps.db)

  /**
   * Every password check goes through the account's lockout: it reserves its attempt first
   * (refused while locked), resets the lockout when right, and gives the attempt back when
   * it never reached a verdict. Unknown accounts are counted the same way.
   */
  async function throttled<T extends { valid: boolean }>(
    email: string,
    ctx: RequestContext,
    check: () => Promise<T>,
    lockedUser: () => Promise<Types.ObjectId | undefined>,
  ): Promise<T> {
    const { ip } = ctx
    const verdict = await throttle.reserve(email, ip)
    if (!verdict.allowed) {
      const userId = await lockedUser()
      await audit.recordRefusal(
        { event: 'login.locked', outcome: 'failure', ...(userId ? { userId } : {}) },
        ctx,
      )
      throw withRetryAfter(new RateLimited(), verdict.retryAfterMs / 1000)
    }
    let result: T
    try {
      result = await check()
    } catch (error) {
      await throttle.release(email, ip).catch(() => undefined)
      throw error
    }
    if (result.valid) await throttle.success(email, ip)
    else throttle.failure(email, ip)
    return result
  }

  function assertAcceptable(password: string, owner: PasswordOwner, path: string): void {
    const problem = passwordProblem(password, owner, deps.passwordPolicy)
    if (problem) throw invalid([{ path, message: problem }])
  }

  /** Checks the signed-in account's password through auth-api, under its lockout. */
  async function passwordMatches(
    principal: Principal,
    password: string,
    path: string,
    ctx: RequestContext,
  ): Promise<boolean> {
    const normalized = passwordForAuthApi(password, path)
    const { valid } = await throttled(
      principal.user.email,
      ctx,
      async () => {
        const hash = await users.findPasswordHash(principal.user._id)
        const result = await authApi.verifyPassword(normalized, hash, {
          requestId: ctx.requestId,
        })
        return { valid: hash !== null && result.valid }
      },
      () => Promise.resolve(principal.user._id),
    )
    return valid
  }

  return {
    async signup(
      input: SignupInput,
      ctx: RequestContext,
    ): Promise<SessionView | { user: UserView }> {
      const email = normalizeEmail(input.email)
      const password = passwordForAuthApi(input.password, '/password')
      assertAcceptable(input.password, { email, name: input.name }, '/password')
      // Spares an argon2 hash for an obvious duplicate; the unique index still decides.
      if (await users.emailTaken(email)) throw new EmailTaken()
      const passwordHash = await authApi.hashPassword(password, { requestId: ctx.requestId })
      let user
      try {
        user = await users.insert({
          email,
          name: input.name?.trim() ?? '',
          passwordHash,
          roles: ['user'],
          now: deps.now(),
        })
      } catch (error) {
        if (isDuplicateKey(error)) throw new EmailTaken()
        throw error
      }
      try {
        await signupEmail?.welcome(user, ctx)
        if (signupEmail?.requireVerification) {
          await audit.record({ event: 'signup', outcome: 'success', userId: user._id }, ctx)
          return { user: toUserView(user) }
        }
        const session = await sessions.start(user, { amr: ['pwd'] }, ctx)
        await audit.record({ event: 'signup', outcome: 'success', userId: user._id }, ctx)
        return session
      } catch (error) {
        // No half-created account: without a session and its record the signup did not happen.
        await sessions.endAll(user._id)
        await users.delete(user._id)
        throw error
      }
    },

    /**
     * Unknown email and wrong password take the same path through auth-api (one call that
     * verifies against the hash, or a dummy hash for the unknown one, and mints the first token
     * of a session only if the password is right) and end in the same error.
     */
    async login(
      input: { email: string; password: string },
      ctx: RequestContext,
    ): Promise<SessionView> {
      const email = normalizeEmail(input.email)
      const password = passwordForAuthApi(input.password, '/password')
      const method = { amr: ['pwd' as const] }
      // The lookup runs while the attempt is reserved; if the reservation is refused, its
      // outcome is ignored (the no-op catch only keeps a late failure from going unhandled).
      const lookup = users.findForLogin(email)
      lookup.catch(() => undefined)
      const { user, valid, needsRehash, minted } = await throttled(
        email,
        ctx,
        async () => {
          const found = await lookup
          // An unknown address gets claims for nobody: nothing is minted for a null hash.
          const pending = sessions.prepare(
            found ?? { _id: new Types.ObjectId(), roles: ['user'] },
            method,
          )
          const checked = await authApi.verifyAndMint(
            password,
            found?.passwordHash ?? null,
            pending.claims,
            { requestId: ctx.requestId },
          )
          return {
            user: found,
            valid: found !== null && checked.valid,
            needsRehash: checked.needsRehash,
            minted: checked.token ? { pending, token: checked.token } : undefined,
          }
        },
        async () => (await lookup.catch(() => null))?._id,
      )
      if (!user?.passwordHash || !valid) {
        // An unknown address is recorded without a user: no account to attach it to.
        await audit.recordRefusal(
          { event: 'login', outcome: 'failure', ...(user ? { userId: user._id } : {}) },
          ctx,
        )
        throw new InvalidCredentials()
      }
      if (needsRehash) {
        const passwordHash = await authApi.hashPassword(password, { requestId: ctx.requestId })
        await users.replaceHash(user._id, user.passwordHash, passwordHash)
      }
      // The session carries the credential version read with the hash: if the password
      // changed since, the session is born dead. A token minted for an account whose sign-in
      // does not start a session now (a second factor, say) is dropped unused: no session
      // carries its id.
      return signIn.complete(user, method, ctx, minted)
    },

    passwordMatches,

    profile(principal: Principal): UserView {
      return toUserView(principal.user)
    },

    async rename(principal: Principal, name: string): Promise<UserView> {
      const user = await users.rename(principal.user._id, name.trim())
      if (!user) throw new NotFound()
      return toUserView(user)
    },

    /** Ends every other session of the account, racing logins included; this one stays. */
    async changePassword(
      principal: Principal,
      input: { currentPassword: string; newPassword: string },
      ctx: RequestContext,
    ): Promise<void> {
      const newPassword = passwordForAuthApi(input.newPassword, '/newPassword')
      assertAcceptable(input.newPassword, principal.user, '/newPassword')
      if (!(await passwordMatches(principal, input.currentPassword, '/currentPassword', ctx))) {
        await audit.recordRefusal(
          { event: 'password.change', outcome: 'failure', userId: principal.user._id },
          ctx,
        )
        throw new WrongPassword()
      }
      const passwordHash = await authApi.hashPassword(newPassword, { requestId: ctx.requestId })
      const changed = await sessions.changeCredentials(
        principal.user._id,
        { passwordHash, passwordChangedAt: deps.now() },
        principal.sessionId,
      )
      if (!changed) throw new NotFound()
      await audit.record(
        { event: 'password.change', outcome: 'success', userId: principal.user._id },
        ctx,
      )
    },

    /** Refuses (401) a wrong password of the signed-in account, under its lockout. */
    async requirePassword(
      principal: Principal,
      password: string,
      path: string,
      ctx: RequestContext,
    ): Promise<void> {
      if (!(await passwordMatches(principal, password, path, ctx))) throw new WrongPassword()
    },

    async deleteSelf(principal: Principal, password: string, ctx: RequestContext): Promise<void> {
      const userId = principal.user._id
      if (!(await passwordMatches(principal, password, '/password', ctx))) {
        await audit.recordRefusal({ event: 'account.delete', outcome: 'failure', userId }, ctx)
        throw new WrongPassword()
      }
      await removeUser(userId)
      await audit.record({ event: 'account.delete', outcome: 'success', userId }, ctx)
    },

    /**
     * An admin deletes other accounts here; their own goes through `DELETE /me` with the
     * password, so no single admin request removes the last admin.
     */
    async deleteById(actor: Principal, id: string, ctx: RequestContext): Promise<void> {
      const userId = new Types.ObjectId(id)
      if (actor.user._id.equals(userId)) throw new Forbidden()
      if (!(await removeUser(userId))) throw new NotFound()
      await audit.record(
        { event: 'admin.delete', outcome: 'success', userId, actorId: actor.user._id },
        ctx,
      )
    },

    async getById(id: string): Promise<UserView> {
      const user = await users.findById(id)
      if (!user) throw new NotFound()
      return toUserView(user)
    },

    /** Pages by ascending id; the cursor is the last id of the previous page. */
    async list(
      limit: number,
      cursor: string | undefined,
    ): Promise<{ items: UserView[]; nextCursor: string | null }> {
      const found = await users.page(cursor, limit)
      const page = found.slice(0, limit)
      const last = page.at(-1)
      return {
        items: page.map(toUserView),
        nextCursor: found.length > limit && last ? last._id.toString() : null,
      }
    },
  }

  /** Sessions go first, so no request can act for the user once the delete has begun. */
  async function removeUser(userId: Types.ObjectId): Promise<boolean> {
    await sessions.endAll(userId)
    const deleted = await users.delete(userId)
    await sessions.endAll(userId)
    await identities.removeAllOfUser(userId)
    await mfaQueries(deps.db).deleteFactor(userId)
    return deleted
  }
}

export type Accounts = ReturnType<typeof createAccounts>
