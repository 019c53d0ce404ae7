import { withRetryAfter, type ValidationIssue } from '@users-auth/service-kit'
import { Types } from 'mongoose'
import { isDuplicateKey } from '../db/database.js'
import {
  EmailTaken,
  InvalidCredentials,
  NotFound,
  RateLimited,
  ValidationFailed,
  WrongPassword,
} from '../errors.js'
import type { DomainDeps, RequestContext } from './deps.js'
import { normalizePassword, passwordProblem } from './password-policy.js'
import type { Principal, Sessions } from './sessions.js'
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

function invalid(issues: ValidationIssue[]): Error {
  return Object.assign(new ValidationFailed(), { errors: issues })
}

export function createAccounts(deps: DomainDeps, sessions: Sessions) {
  const { db, authApi, throttle } = deps

  /**
   * Every password check goes through the account's lockout: refused early while locked,
   * counted when wrong, reset when right. Unknown accounts are counted the same way.
   */
  async function throttled<T extends { valid: boolean }>(
    email: string,
    ip: string,
    check: () => Promise<T>,
  ): Promise<T> {
    const verdict = await throttle.check(email, ip)
    if (!verdict.allowed) throw withRetryAfter(new RateLimited(), verdict.retryAfterMs / 1000)
    const result = await check()
    await (result.valid ? throttle.success(email, ip) : throttle.failure(email, ip))
    return result
  }

  function assertAcceptable(password: string, email: string, path: string): void {
    const problem = passwordProblem(password, email, deps.passwordPolicy)
    if (problem) throw invalid([{ path, message: problem }])
  }

  /** Checks the signed-in account's password through auth-api, under its lockout. */
  async function passwordMatches(
    principal: Principal,
    password: string,
    ctx: RequestContext,
  ): Promise<boolean> {
    const { valid } = await throttled(principal.user.email, ctx.ip, async () => {
      const user = await db.users.findById(principal.user._id, { passwordHash: 1 }).lean()
      const result = await authApi.verifyPassword(
        normalizePassword(password),
        user?.passwordHash ?? null,
        {
          requestId: ctx.requestId,
        },
      )
      return { valid: user !== null && result.valid }
    })
    return valid
  }

  return {
    async signup(input: SignupInput, ctx: RequestContext): Promise<SessionView> {
      const email = normalizeEmail(input.email)
      assertAcceptable(input.password, email, '/password')
      // Spares an argon2 hash for an obvious duplicate; the unique index still decides.
      if (await db.users.exists({ email })) throw new EmailTaken()
      const passwordHash = await authApi.hashPassword(normalizePassword(input.password), {
        requestId: ctx.requestId,
      })
      const now = deps.now()
      let user
      try {
        user = await db.users.create({
          _id: new Types.ObjectId(),
          email,
          name: input.name?.trim() ?? '',
          passwordHash,
          roles: ['user'],
          passwordChangedAt: now,
        })
      } catch (error) {
        if (isDuplicateKey(error)) throw new EmailTaken()
        throw error
      }
      try {
        return await sessions.start(user, ctx)
      } catch (error) {
        // No half-created account: without a session the signup did not happen.
        await db.users.deleteOne({ _id: user._id })
        throw error
      }
    },

    /**
     * Unknown email and wrong password take the same path through auth-api (a dummy hash for
     * the unknown one) and end in the same error.
     */
    async login(
      input: { email: string; password: string },
      ctx: RequestContext,
    ): Promise<SessionView> {
      const email = normalizeEmail(input.email)
      const password = normalizePassword(input.password)
      // The lookup runs while the throttle is consulted; if the throttle refuses, its outcome
      // is ignored (the no-op catch only keeps a late failure from going unhandled).
      const lookup = db.users.findOne({ email }).select('+passwordHash').lean().exec()
      lookup.catch(() => undefined)
      const { user, valid, needsRehash } = await throttled(email, ctx.ip, async () => {
        const found = await lookup
        const verified = await authApi.verifyPassword(password, found?.passwordHash ?? null, {
          requestId: ctx.requestId,
        })
        return {
          user: found,
          valid: found !== null && verified.valid,
          needsRehash: verified.needsRehash,
        }
      })
      if (!user || !valid) throw new InvalidCredentials()
      if (needsRehash) {
        const passwordHash = await authApi.hashPassword(password, { requestId: ctx.requestId })
        await db.users.updateOne(
          { _id: user._id, passwordHash: user.passwordHash },
          { $set: { passwordHash } },
        )
      }
      return sessions.start(user, ctx)
    },

    profile(principal: Principal): UserView {
      return toUserView(principal.user)
    },

    async rename(principal: Principal, name: string): Promise<UserView> {
      const user = await db.users
        .findByIdAndUpdate(
          principal.user._id,
          { $set: { name: name.trim() } },
          { returnDocument: 'after' },
        )
        .lean()
      if (!user) throw new NotFound()
      return toUserView(user)
    },

    /** Ends every other session of the account; this one stays. */
    async changePassword(
      principal: Principal,
      input: { currentPassword: string; newPassword: string },
      ctx: RequestContext,
    ): Promise<void> {
      assertAcceptable(input.newPassword, principal.user.email, '/newPassword')
      if (!(await passwordMatches(principal, input.currentPassword, ctx))) throw new WrongPassword()
      const passwordHash = await authApi.hashPassword(normalizePassword(input.newPassword), {
        requestId: ctx.requestId,
      })
      await db.users.updateOne(
        { _id: principal.user._id },
        { $set: { passwordHash, passwordChangedAt: deps.now() } },
      )
      await sessions.endAllExcept(principal.user._id, principal.sessionId)
    },

    async deleteSelf(principal: Principal, password: string, ctx: RequestContext): Promise<void> {
      if (!(await passwordMatches(principal, password, ctx))) throw new WrongPassword()
      await removeUser(principal.user._id)
    },

    async deleteById(id: string): Promise<void> {
      if (!(await removeUser(new Types.ObjectId(id)))) throw new NotFound()
    },

    async getById(id: string): Promise<UserView> {
      const user = await db.users.findById(id).lean()
      if (!user) throw new NotFound()
      return toUserView(user)
    },

    /** Pages by ascending id; the cursor is the last id of the previous page. */
    async list(
      limit: number,
      cursor: string | undefined,
    ): Promise<{ items: UserView[]; nextCursor: string | null }> {
      const filter = cursor ? { _id: { $gt: new Types.ObjectId(cursor) } } : {}
      const users = await db.users
        .find(filter)
        .sort({ _id: 1 })
        .limit(limit + 1)
        .lean()
      const page = users.slice(0, limit)
      const last = page.at(-1)
      return {
        items: page.map(toUserView),
        nextCursor: users.length > limit && last ? last._id.toString() : null,
      }
    },
  }

  /** Sessions go first, so no request can act for the user once the delete has begun. */
  async function removeUser(userId: Types.ObjectId): Promise<boolean> {
    await sessions.endAll(userId)
    const { deletedCount } = await db.users.deleteOne({ _id: userId })
    await sessions.endAll(userId)
    return deletedCount > 0
  }
}

export type Accounts = ReturnType<typeof createAccounts>
