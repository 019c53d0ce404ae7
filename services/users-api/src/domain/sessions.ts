import type { Amr, TokenRequest, TokenResponse } from '@users-auth/auth-contract'
import { LRUCache } from 'lru-cache'
import type { Types } from 'mongoose'
import { sessionQueries, type RotationConditions } from '../db/session-queries.js'
import type { SessionRecord, SessionState } from '../db/session-model.js'
import type { Role, UserRecord } from '../db/user-model.js'
import { userQueries, type SessionUser } from '../db/user-queries.js'
import { NotFound, RefreshTokenInvalid, RefreshTokenReused } from '../errors.js'
import type { DomainDeps, RequestContext } from './deps.js'
import { createPrincipalCache } from './principal-cache.js'
import {
  hashRefreshToken,
  newRefreshToken,
  newSessionId,
  openForRetry,
  sealForRetry,
  sessionIdOf,
} from './refresh-tokens.js'
import { toSessionInfo, toUserView, type SessionInfoView, type SessionView } from './views.js'

export type { SessionUser } from '../db/user-queries.js'

/** The caller of an authenticated request, as its live session and user say. */
export interface Principal {
  user: SessionUser
  sessionId: string
  roles: Role[]
}

/** How a session was authenticated: what its access tokens say in `amr` and `auth_time`. */
export interface SignInMethod {
  amr: Amr[]
  /** When the user proved who they are; defaults to the session's start. */
  authTime?: Date
}

/**
 * A session about to start: its id, its refresh token and the claims of its first access
 * token, so that a password login can have auth-api verify and mint in one call.
 */
export interface PendingSession {
  sessionId: string
  refreshToken: string
  startedAt: Date
  method: Required<SignInMethod>
  claims: TokenRequest
}

/** What a rotation answered, kept sealed for a retry within the reuse grace. */
interface RetryAnswer {
  accessToken: string
  refreshToken: string
  expiresIn: number
  /** When the access token was issued, ms since the epoch. */
  issuedAt: number
}

/** A credential change, applied to the user together with the version bump. */
export type CredentialChange = Partial<
  Pick<
    UserRecord,
    | 'passwordHash'
    | 'hasPassword'
    | 'passwordChangedAt'
    | 'email'
    | 'emailVerified'
    | 'mfaEnabled'
    | 'disabled'
    | 'roles'
  >
>

/**
 * A session keeps the hash of every refresh token it rotated, so that any of them presented
 * again revokes it (contract: an already-rotated token revokes the whole session). This caps
 * that list: one refresh every 13 minutes for the default 90 days; a session refreshed more
 * often than that ends there (REFRESH_TOKEN_INVALID, sign in again) rather than forget.
 */
export const maxRotationsPerSession = 10_000

/** A live session's credential version and its user, as the authenticated path reads them. */
type Found = NonNullable<Awaited<ReturnType<ReturnType<typeof sessionQueries>['findLiveWithUser']>>>

/** An account's or session's credential version; records from before it existed are at 0. */
export const versionOf = (record: { credentialVersion?: number }) => record.credentialVersion ?? 0

/** Whether the user still stands behind the session: not disabled, no credential change since. */
const standsBehind = (user: SessionUser, session: { credentialVersion?: number }) =>
  user.disabled !== true && versionOf(user) === versionOf(session)

export function createSessions(deps: DomainDeps) {
  const { authApi } = deps
  const store = sessionQueries(deps.db)
  const users = userQueries(deps.db)
  const principals = createPrincipalCache<Found>(deps.db.principalStamps, {
    maxEntries: 10_000,
    maxLifetimeMs: deps.sessionMaxLifetimeMs,
    maxAgeMs: 60_000,
  })
  // The current refresh-token hash of sessions this replica started or rotated last: only a
  // token that matches one takes the fast rotation below. A forged or retired token never
  // does, so it costs no mint; another replica's rotation makes an entry stale, which only
  // sends that session's next refresh the full way.
  const currentHashes = new LRUCache<string, string>({ max: 10_000 })

  function claimsOf(
    user: Pick<SessionUser, '_id' | 'roles'>,
    sessionId: string,
    method: Required<SignInMethod>,
  ): TokenRequest {
    return {
      sub: user._id.toString(),
      sid: sessionId,
      roles: user.roles,
      amr: method.amr,
      auth_time: Math.floor(method.authTime.getTime() / 1000),
    }
  }

  function mint(
    user: SessionUser,
    sessionId: string,
    method: Required<SignInMethod>,
    ctx: RequestContext,
  ) {
    return authApi.mintAccessToken(claimsOf(user, sessionId, method), {
      requestId: ctx.requestId,
    })
  }

  /** The idle expiry moved on from `now`, never past the absolute end. */
  function expiryFrom(now: Date, createdAt: Date): Date {
    return new Date(
      Math.min(
        now.getTime() + deps.refreshTokenTtlMs,
        createdAt.getTime() + deps.sessionMaxLifetimeMs,
      ),
    )
  }

  /** Sessions that began at or before this are past their absolute lifetime at `now`. */
  function lifetimeStart(now: Date): Date {
    return new Date(now.getTime() - deps.sessionMaxLifetimeMs)
  }

  function isLive(session: SessionState, now: Date): boolean {
    return session.expiresAt > now && session.createdAt > lifetimeStart(now)
  }

  /** Freezes what the cache hands to every request it serves: nobody may change it. */
  function shared(found: Found): Found {
    Object.freeze(found.user.roles)
    Object.freeze(found.user)
    return Object.freeze(found)
  }

  /**
   * The live session and its user, from the principal cache or, when its stamps moved, from
   * MongoDB. Both are read inside the cache's `read`, after the stamps: an entry never holds
   * anything read before them (a session read earlier may have been revoked in between).
   */
  function liveSession(sessionId: string, userId: string, now: Date): Promise<Found | undefined> {
    return principals.resolve(sessionId, userId, now, async () => {
      const read = await store.findLiveWithUser(sessionId, userId, now, lifetimeStart(now))
      if (!read) return undefined
      const { expiresAt, createdAt } = read.session
      return { expiresAt, createdAt, found: shared(read) }
    })
  }

  /**
   * The session's user, if it exists, is not disabled, and no credential changed since the
   * session (as the caller just read it) began. Read from MongoDB: a refresh that reaches this
   * has no cached user to trust, and its session was read before any stamps (so what it read
   * may not be cached).
   */
  async function currentUser(session: SessionState): Promise<SessionUser | undefined> {
    const user = await users.findById(session.userId)
    return user && standsBehind(user, session) ? user : undefined
  }

  /**
   * A token the session retired: within the reuse grace, the token the last rotation retired
   * gets that rotation's answer again; any other is a replay and revokes the session (RFC 9700
   * §4.14.2).
   */
  async function retryOrReplay(
    session: SessionState,
    presentedToken: string,
    presentedHash: string,
    now: Date,
    ctx: RequestContext,
  ): Promise<SessionView> {
    const grace = deps.refreshReuseGraceMs
    if (
      grace > 0 &&
      session.previousTokenHash === presentedHash &&
      session.previousPair &&
      session.previousRotatedAt &&
      now.getTime() - session.previousRotatedAt.getTime() < grace
    ) {
      // Authenticated encryption of our own JSON: what opens is what we sealed.
      const answer = openForRetry(presentedToken, session.previousPair) as RetryAnswer | undefined
      if (answer) {
        const user = await currentUser(session)
        if (!user) {
          await store.delete(session._id)
          throw new RefreshTokenInvalid()
        }
        const elapsedSeconds = Math.floor((now.getTime() - answer.issuedAt) / 1000)
        return {
          user: toUserView(user),
          accessToken: answer.accessToken,
          refreshToken: answer.refreshToken,
          tokenType: 'Bearer',
          expiresIn: Math.max(0, answer.expiresIn - elapsedSeconds),
        }
      }
    }
    await store.delete(session._id)
    await deps.audit.record(
      { event: 'refresh.reuse', outcome: 'failure', userId: session.userId },
      ctx,
    )
    throw new RefreshTokenReused()
  }

  /** How the session was authenticated; sessions stored before `amr` were password logins. */
  function methodOf(session: Pick<SessionRecord, 'amr' | 'authTime' | 'createdAt'>) {
    return { amr: session.amr ?? ['pwd' as const], authTime: session.authTime ?? session.createdAt }
  }

  /** The next access token (minted) and refresh token for the session; nothing is stored yet. */
  async function nextPair(
    user: SessionUser,
    session: Pick<SessionRecord, '_id' | 'amr' | 'authTime' | 'createdAt'>,
    presented: { token: string; hash: string },
    now: Date,
    ctx: RequestContext,
  ) {
    const sessionId = session._id
    const { accessToken, expiresIn } = await mint(user, sessionId, methodOf(session), ctx)
    const next = newRefreshToken(sessionId)
    const answer: RetryAnswer = {
      accessToken,
      refreshToken: next,
      expiresIn,
      issuedAt: now.getTime(),
    }
    const rotation = {
      refreshTokenHash: hashRefreshToken(next),
      lastUsedAt: now,
      expiresAt: expiryFrom(now, session.createdAt),
      ...(deps.refreshReuseGraceMs > 0
        ? {
            previous: {
              tokenHash: presented.hash,
              rotatedAt: now,
              sealedPair: sealForRetry(presented.token, answer),
            },
          }
        : {}),
    }
    const view: SessionView = {
      user: toUserView(user),
      accessToken,
      refreshToken: next,
      tokenType: 'Bearer',
      expiresIn,
    }
    return { sessionId, rotation, view }
  }

  /**
   * Swaps the presented refresh token for the next one if it is still the current one (and
   * `conditions` hold): undefined when the swap did not happen.
   */
  async function rotateTo(
    { sessionId, rotation, view }: Awaited<ReturnType<typeof nextPair>>,
    presentedHash: string,
    conditions?: RotationConditions,
  ): Promise<SessionView | undefined> {
    if (!(await store.rotate(sessionId, presentedHash, rotation, conditions))) return undefined
    currentHashes.set(sessionId, rotation.refreshTokenHash)
    return view
  }

  /**
   * A rotation without reading the session first, for a token that is the current one as this
   * replica last knew it, of a session whose user it has cached (under current stamps): the
   * update itself checks that the token is still the current one and that the session is
   * live, at the cached credential version and under the rotation cap. Undefined when it is
   * not such a token, or the update does not match: the full path then reads and decides.
   * The token minted for an update that does not match is never handed out.
   */
  async function rotateKnown(
    sessionId: string,
    presented: { token: string; hash: string },
    now: Date,
    ctx: RequestContext,
  ): Promise<SessionView | undefined> {
    if (currentHashes.get(sessionId) !== presented.hash) return undefined
    const userId = principals.userOf(sessionId)
    if (userId === undefined) return undefined
    const found = await liveSession(sessionId, userId, now)
    if (!found || !standsBehind(found.user, found.session)) return undefined
    let next
    try {
      next = await nextPair(found.user, { _id: sessionId, ...found.session }, presented, now, ctx)
    } catch {
      // Another replica may have rotated this token since: only the full path can tell a
      // replay (which ends the session, auth-api or not) from a current token (503 there).
      return undefined
    }
    return rotateTo(next, presented.hash, {
      liveAt: now,
      startedAfter: lifetimeStart(now),
      credentialVersion: versionOf(found.session),
      rotationsBelow: maxRotationsPerSession,
    })
  }

  return {
    /** A new session's id, refresh token and first claims; nothing is stored yet. */
    prepare(user: Pick<SessionUser, '_id' | 'roles'>, method: SignInMethod): PendingSession {
      const sessionId = newSessionId()
      const startedAt = deps.now()
      const full = { amr: method.amr, authTime: method.authTime ?? startedAt }
      return {
        sessionId,
        refreshToken: newRefreshToken(sessionId),
        startedAt,
        method: full,
        claims: claimsOf(user, sessionId, full),
      }
    },

    /**
     * Mints tokens first (unless the caller already has the first one for `pending`), then
     * stores the session: a failing auth-api leaves nothing behind. The session carries the
     * credential version the user was read with, so a login that read the user just before a
     * password change starts a session that is already dead.
     */
    async start(
      user: SessionUser,
      method: SignInMethod,
      ctx: RequestContext,
      minted?: { pending: PendingSession; token: TokenResponse },
    ): Promise<SessionView> {
      const pending = minted?.pending ?? this.prepare(user, method)
      const { sessionId, refreshToken, startedAt: now } = pending
      const { accessToken, expiresIn } =
        minted?.token ?? (await mint(user, sessionId, pending.method, ctx))
      const refreshTokenHash = hashRefreshToken(refreshToken)
      await store.insert({
        _id: sessionId,
        userId: user._id,
        refreshTokenHash,
        createdAt: now,
        lastUsedAt: now,
        userAgent: ctx.userAgent.slice(0, 256),
        ip: ctx.ip,
        expiresAt: expiryFrom(now, now),
        credentialVersion: versionOf(user),
        amr: pending.method.amr,
        authTime: pending.method.authTime,
      })
      currentHashes.set(sessionId, refreshTokenHash)
      return { user: toUserView(user), accessToken, refreshToken, tokenType: 'Bearer', expiresIn }
    },

    /**
     * Rotates the refresh token. The swap is one conditional update on the current hash, so of
     * two concurrent refreshes exactly one rotates; the other then finds the token retired and
     * is answered as a retry (within the grace) or a replay.
     */
    async refresh(refreshToken: string, ctx: RequestContext): Promise<SessionView> {
      const sessionId = sessionIdOf(refreshToken)
      if (!sessionId) throw new RefreshTokenInvalid()
      const presented = { token: refreshToken, hash: hashRefreshToken(refreshToken) }
      const now = deps.now()
      const known = await rotateKnown(sessionId, presented, now, ctx)
      if (known) return known
      const session = await store.findByToken(sessionId, presented.hash)
      if (!session || !isLive(session, now)) throw new RefreshTokenInvalid()
      if (session.refreshTokenHash !== presented.hash) {
        return retryOrReplay(session, refreshToken, presented.hash, now, ctx)
      }
      const user = await currentUser(session)
      if (!user || (session.rotations ?? 0) >= maxRotationsPerSession) {
        await store.delete(sessionId)
        throw new RefreshTokenInvalid()
      }
      const rotated = await rotateTo(
        await nextPair(user, session, presented, now, ctx),
        presented.hash,
      )
      if (rotated) return rotated
      // Another request rotated this token between our read and our write.
      const after = await store.findByToken(sessionId, presented.hash)
      if (!after) throw new RefreshTokenInvalid()
      return retryOrReplay(after, refreshToken, presented.hash, now, ctx)
    },

    /**
     * The session and its user, if both are live and no credential changed since the session
     * began: revocation takes effect on the very next request.
     */
    async resolve(sessionId: string, userId: string): Promise<Principal | undefined> {
      if (typeof sessionId !== 'string' || typeof userId !== 'string') return undefined
      const found = await liveSession(sessionId, userId, deps.now())
      if (!found || !standsBehind(found.user, found.session)) return undefined
      return { user: found.user, sessionId, roles: found.user.roles }
    },

    /**
     * A credential of the user changed (password, email, second factor, disable): the change
     * and a new credential version are written in one update, which kills every session
     * started under the old version, including any that a racing login or refresh creates
     * after this. The caller's own session (`keep`) moves to the new version; the others are
     * then deleted.
     */
    async changeCredentials(
      userId: Types.ObjectId,
      change: CredentialChange,
      keep?: string,
      /** Only if the account is still at this credential version (a mailed token's, say). */
      ifVersion?: number,
    ): Promise<boolean> {
      const version = await users.changeCredentials(userId, change, ifVersion)
      if (version === undefined) return false
      if (keep) await store.adoptCredentialVersion(keep, userId, version)
      await store.deleteAllExcept(userId, keep)
      return true
    },

    async end(sessionId: string): Promise<void> {
      await store.delete(sessionId)
    },

    async logout(principal: Principal, ctx: RequestContext): Promise<void> {
      await store.delete(principal.sessionId)
      await deps.audit.record(
        { event: 'logout', outcome: 'success', userId: principal.user._id },
        ctx,
      )
    },

    async list(userId: Types.ObjectId, currentId: string): Promise<SessionInfoView[]> {
      const sessions = await store.listByUser(userId)
      return sessions.map((s) => toSessionInfo(s, currentId))
    },

    async revoke(userId: Types.ObjectId, sessionId: string, ctx: RequestContext): Promise<void> {
      if (!(await store.deleteOwned(userId, sessionId))) throw new NotFound()
      await deps.audit.record({ event: 'session.revoke', outcome: 'success', userId }, ctx)
    },

    /**
     * Log out everywhere else: a credential version bump with the caller's session kept, so a
     * login racing this request cannot leave a session behind either.
     */
    async revokeOthers(principal: Principal, ctx: RequestContext): Promise<void> {
      const userId = principal.user._id
      if (!(await this.changeCredentials(userId, {}, principal.sessionId))) throw new NotFound()
      await deps.audit.record({ event: 'session.revoke', outcome: 'success', userId }, ctx)
    },

    async endAllExcept(userId: Types.ObjectId, keepId: string): Promise<void> {
      await store.deleteAllExcept(userId, keepId)
    },

    async endAll(userId: Types.ObjectId): Promise<void> {
      await store.deleteAllExcept(userId, undefined)
    },
  }
}

export type Sessions = ReturnType<typeof createSessions>
