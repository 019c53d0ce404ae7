import { Types } from 'mongoose'
import { rotatedHashesKept, type SessionRecord } from '../db/session-model.js'
import type { Role, UserRecord } from '../db/user-model.js'
import { NotFound, RefreshTokenInvalid, RefreshTokenReused } from '../errors.js'
import type { DomainDeps, RequestContext } from './deps.js'
import { hashRefreshToken, newRefreshToken, newSessionId, sessionIdOf } from './refresh-tokens.js'
import { toSessionInfo, toUserView, type SessionInfoView, type SessionView } from './views.js'

type SessionUser = Pick<UserRecord, '_id' | 'email' | 'name' | 'roles' | 'createdAt' | 'updatedAt'>

/** The caller of an authenticated request, as its live session and user say. */
export interface Principal {
  user: SessionUser
  sessionId: string
  roles: Role[]
}

const objectIdShape = /^[0-9a-f]{24}$/

const userFields = { email: 1, name: 1, roles: 1, createdAt: 1, updatedAt: 1 } as const

export function createSessions(deps: DomainDeps) {
  const { db, authApi } = deps

  async function mint(user: SessionUser, sessionId: string, ctx: RequestContext) {
    return authApi.mintAccessToken(
      { sub: user._id.toString(), sid: sessionId, roles: user.roles },
      { requestId: ctx.requestId },
    )
  }

  return {
    /** Mints tokens first, then stores the session: a failing auth-api leaves nothing behind. */
    async start(user: SessionUser, ctx: RequestContext): Promise<SessionView> {
      const sessionId = newSessionId()
      const refreshToken = newRefreshToken(sessionId)
      const { accessToken, expiresIn } = await mint(user, sessionId, ctx)
      const now = deps.now()
      await db.sessions.create({
        _id: sessionId,
        userId: user._id,
        refreshTokenHash: hashRefreshToken(refreshToken),
        rotatedTokenHashes: [],
        createdAt: now,
        lastUsedAt: now,
        userAgent: ctx.userAgent.slice(0, 256),
        ip: ctx.ip,
        expiresAt: new Date(now.getTime() + deps.refreshTokenTtlMs),
      })
      return { user: toUserView(user), accessToken, refreshToken, tokenType: 'Bearer', expiresIn }
    },

    /**
     * Rotates the refresh token. The swap is one conditional update on the current hash, so of
     * two concurrent refreshes exactly one wins; a token that was already rotated revokes the
     * whole session (RFC 9700 §4.14.2).
     */
    async refresh(refreshToken: string, ctx: RequestContext): Promise<SessionView> {
      const sessionId = sessionIdOf(refreshToken)
      if (!sessionId) throw new RefreshTokenInvalid()
      const presented = hashRefreshToken(refreshToken)
      const now = deps.now()
      const session = await db.sessions.findById(sessionId).lean()
      if (!session || session.expiresAt <= now) throw new RefreshTokenInvalid()
      if (session.refreshTokenHash !== presented) {
        if (!session.rotatedTokenHashes.includes(presented)) throw new RefreshTokenInvalid()
        await db.sessions.deleteOne({ _id: sessionId })
        throw new RefreshTokenReused()
      }
      const user = await db.users.findById(session.userId, userFields).lean()
      if (!user) throw new RefreshTokenInvalid()
      const { accessToken, expiresIn } = await mint(user, sessionId, ctx)
      const next = newRefreshToken(sessionId)
      const rotated = await db.sessions.findOneAndUpdate(
        { _id: sessionId, refreshTokenHash: presented },
        {
          $set: {
            refreshTokenHash: hashRefreshToken(next),
            lastUsedAt: now,
            expiresAt: new Date(now.getTime() + deps.refreshTokenTtlMs),
          },
          $push: { rotatedTokenHashes: { $each: [presented], $slice: -rotatedHashesKept } },
        },
        { returnDocument: 'after', projection: { _id: 1 } },
      )
      if (!rotated) {
        // Another request rotated this token between our read and our write: a replay.
        await db.sessions.deleteOne({ _id: sessionId })
        throw new RefreshTokenReused()
      }
      return {
        user: toUserView(user),
        accessToken,
        refreshToken: next,
        tokenType: 'Bearer',
        expiresIn,
      }
    },

    /** The session and its user, if both still exist: revocation takes effect at once. */
    async resolve(sessionId: string, userId: string): Promise<Principal | undefined> {
      if (
        typeof sessionId !== 'string' ||
        typeof userId !== 'string' ||
        !objectIdShape.test(userId)
      )
        return undefined
      // Every authenticated request passes here: the driver's own findOne, without mongoose's
      // query and document layers (a large share of this path's CPU in the benchmark).
      const owner = new Types.ObjectId(userId)
      const [session, user] = await Promise.all([
        db.sessions.db
          .collection<SessionRecord>(db.sessions.collection.collectionName)
          .findOne(
            { _id: sessionId, userId: owner, expiresAt: { $gt: deps.now() } },
            { projection: { _id: 1 } },
          ),
        db.users.db
          .collection<UserRecord>(db.users.collection.collectionName)
          .findOne<SessionUser>({ _id: owner }, { projection: userFields }),
      ])
      if (!session || !user) return undefined
      return { user, sessionId, roles: user.roles }
    },

    async end(sessionId: string): Promise<void> {
      await db.sessions.deleteOne({ _id: sessionId })
    },

    async list(userId: Types.ObjectId, currentId: string): Promise<SessionInfoView[]> {
      const sessions = await db.sessions.find({ userId }).sort({ lastUsedAt: -1 }).limit(100).lean()
      return sessions.map((s) => toSessionInfo(s, currentId))
    },

    async revoke(userId: Types.ObjectId, sessionId: string): Promise<void> {
      const { deletedCount } = await db.sessions.deleteOne({ _id: sessionId, userId })
      if (deletedCount === 0) throw new NotFound()
    },

    async endAllExcept(userId: Types.ObjectId, keepId: string): Promise<void> {
      await db.sessions.deleteMany({ userId, _id: { $ne: keepId } })
    },

    async endAll(userId: Types.ObjectId): Promise<void> {
      await db.sessions.deleteMany({ userId })
    },
  }
}

export type Sessions = ReturnType<typeof createSessions>
