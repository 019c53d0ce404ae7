import { Types } from 'mongoose'
import { driverCollection, type Database } from './database.js'
import type { SessionRecord, SessionState } from './session-model.js'
import { sessionUserFields, type SessionUser } from './user-queries.js'

export type NewSession = Omit<
  SessionRecord,
  'rotatedTokenHashes' | 'rotations' | 'previousTokenHash' | 'previousRotatedAt' | 'previousPair'
>

export interface Rotation {
  refreshTokenHash: string
  lastUsedAt: Date
  expiresAt: Date
  /** Only while a reuse grace is configured. */
  previous?: { tokenHash: string; rotatedAt: Date; sealedPair: string }
}

/** What the session must still be for a rotation made without reading it first. */
export interface RotationConditions {
  liveAt: Date
  startedAfter: Date
  credentialVersion: number
  rotationsBelow: number
}

const objectIdShape = /^[0-9a-f]{24}$/

/**
 * A filter for sessions at credential `version`. Sessions from before versions were stored
 * have none: version 0, which `$not: {$gt: 0}` also matches (versions are never negative).
 */
const atVersion = (version: number) => (version === 0 ? { $not: { $gt: 0 } } : version)

/** Every query on sessions, named for what it does. */
export function sessionQueries({ sessions, users, principalStamps }: Database) {
  // Every query goes to the driver directly (see driverCollection): sessions are read or
  // written by every login, refresh and authenticated request.
  const sessionCollection = () => driverCollection(sessions)
  const userCollection = () => driverCollection(users)
  const withoutRotatedHashes = { projection: { rotatedTokenHashes: 0 } }

  return {
    async insert(session: NewSession): Promise<void> {
      await sessionCollection().insertOne({ ...session, rotatedTokenHashes: [], rotations: 0 })
    },

    /**
     * The session, if `tokenHash` is its current refresh token or one it retired; null for any
     * other token, whether or not the session exists: a guessed token costs one read either
     * way (only the database's matching of a live session's retired hashes takes longer).
     */
    findByToken(id: string, tokenHash: string): Promise<SessionState | null> {
      return sessionCollection().findOne<SessionState>(
        { _id: id, $or: [{ refreshTokenHash: tokenHash }, { rotatedTokenHashes: tokenHash }] },
        // A secondary's older view could answer a retry for a session already ended.
        { ...withoutRotatedHashes, readPreference: 'primary' },
      )
    },

    /**
     * The session, if it is live at `now` and started after `startedAfter`, and its user, read
     * together (one round trip's latency).
     */
    async findLiveWithUser(
      sessionId: string,
      userId: string,
      now: Date,
      startedAfter: Date,
    ): Promise<
      | {
          session: Pick<
            SessionRecord,
            'credentialVersion' | 'expiresAt' | 'createdAt' | 'amr' | 'authTime'
          >
          user: SessionUser
        }
      | undefined
    > {
      if (!objectIdShape.test(userId)) return undefined
      const owner = new Types.ObjectId(userId)
      const [session, user] = await Promise.all([
        sessionCollection().findOne(
          {
            _id: sessionId,
            userId: owner,
            expiresAt: { $gt: now },
            createdAt: { $gt: startedAfter },
          },
          // Never a secondary's older view: what this returns may be cached (principal cache).
          {
            projection: { credentialVersion: 1, expiresAt: 1, createdAt: 1, amr: 1, authTime: 1 },
            readPreference: 'primary',
          },
        ),
        userCollection().findOne(
          { _id: owner },
          { projection: sessionUserFields, readPreference: 'primary' },
        ),
      ])
      return session && user ? { session, user } : undefined
    },

    /**
     * Swaps the current refresh token for the next in one conditional update: of two
     * concurrent rotations of one token exactly one succeeds. The retired hash is kept for
     * replay detection as long as the session lives. With `conditions`, the session's
     * liveness, credential version and rotation count are checked by the update itself.
     */
    async rotate(
      id: string,
      presentedHash: string,
      rotation: Rotation,
      conditions?: RotationConditions,
    ): Promise<boolean> {
      const { previous, ...set } = rotation
      // A plain conditional update (no findAndModify projection): portable to every engine.
      const { modifiedCount } = await sessionCollection().updateOne(
        {
          _id: id,
          refreshTokenHash: presentedHash,
          ...(conditions
            ? {
                expiresAt: { $gt: conditions.liveAt },
                createdAt: { $gt: conditions.startedAfter },
                credentialVersion: atVersion(conditions.credentialVersion),
                // Absent on sessions from before rotations were counted: none so far.
                rotations: { $not: { $gte: conditions.rotationsBelow } },
              }
            : {}),
        },
        {
          $set: {
            ...set,
            ...(previous
              ? {
                  previousTokenHash: previous.tokenHash,
                  previousRotatedAt: previous.rotatedAt,
                  previousPair: previous.sealedPair,
                }
              : {}),
          },
          // Every retired hash, for the session's life (bounded by the domain's rotation cap).
          $push: { rotatedTokenHashes: presentedHash },
          $inc: { rotations: 1 },
        },
      )
      return modifiedCount === 1
    },

    /**
     * Moves the caller's own session to the credential version its change produced, only if
     * no other change came between (it still carries the version just before).
     */
    async adoptCredentialVersion(
      id: string,
      userId: Types.ObjectId,
      version: number,
    ): Promise<void> {
      await principalStamps.around({ sessionId: id }, () =>
        sessionCollection().updateOne(
          { _id: id, userId, credentialVersion: atVersion(version - 1) },
          { $set: { credentialVersion: version } },
        ),
      )
    },

    async delete(id: string): Promise<void> {
      await principalStamps.around({ sessionId: id }, () =>
        sessionCollection().deleteOne({ _id: id }),
      )
    },

    async deleteOwned(userId: Types.ObjectId, id: string): Promise<boolean> {
      const { deletedCount } = await principalStamps.around({ sessionId: id }, () =>
        sessionCollection().deleteOne({ _id: id, userId }),
      )
      return deletedCount > 0
    },

    async deleteAllExcept(userId: Types.ObjectId, keepId: string | undefined): Promise<void> {
      await principalStamps.around({ userId: userId.toString() }, () =>
        sessionCollection().deleteMany(keepId ? { userId, _id: { $ne: keepId } } : { userId }),
      )
    },

    listByUser(userId: Types.ObjectId): Promise<SessionState[]> {
      return sessionCollection()
        .find<SessionState>({ userId }, withoutRotatedHashes)
        .sort({ lastUsedAt: -1 })
        .limit(100)
        .toArray()
    },
  }
}
