import { LRUCache } from 'lru-cache'
import type { PrincipalStamps, Stamps } from '../db/principal-stamps.js'

/** A session and its user as MongoDB gave them, with what decides the session's liveness. */
export interface LiveSession<T> {
  expiresAt: Date
  createdAt: Date
  found: T
}

interface Entry<T> extends LiveSession<T> {
  userId: string
  stamps: Stamps
  /** performance.now() when it was read from MongoDB. */
  readAt: number
}

const sameStamps = (a: Stamps, b: Stamps) =>
  a.user === b.user && a.session === b.session && a.connection === b.connection

/**
 * The callers of authenticated requests, kept in this process while the shared stamps of their
 * user and session stay the same (see PrincipalStamps): an authenticated request then costs one
 * Redis round trip instead of two MongoDB reads, and a revocation on any replica still applies
 * to the very next request. Liveness in time (idle and absolute expiry) is checked on each use.
 */
export function createPrincipalCache<T>(
  stamps: PrincipalStamps,
  options: {
    maxEntries: number
    maxLifetimeMs: number
    /**
     * How long an entry may be used at all: a bound on staleness should Redis lose a write's
     * invalidation (a failure between a write and its second invalidation).
     */
    maxAgeMs: number
  },
) {
  // The least recently used entries make room.
  const entries = new LRUCache<string, Entry<T>>({ max: options.maxEntries })

  const live = (entry: LiveSession<T>, now: Date) =>
    entry.expiresAt > now && entry.createdAt.getTime() + options.maxLifetimeMs > now.getTime()
  const young = (entry: Entry<T>) => performance.now() - entry.readAt < options.maxAgeMs

  return {
    /**
     * The user of a session this cache holds and may still use (whatever its stamps say now):
     * an entry past its age would be read again anyway.
     */
    userOf(sessionId: string): string | undefined {
      const entry = entries.peek(sessionId)
      return entry && young(entry) ? entry.userId : undefined
    },

    /**
     * The session's record, from this cache when its stamps still match, else from `read`
     * (MongoDB), which is then kept under the stamps read before it.
     */
    async resolve(
      sessionId: string,
      userId: string,
      now: Date,
      read: () => Promise<LiveSession<T> | undefined>,
    ): Promise<T | undefined> {
      const current = await stamps.read(userId, sessionId)
      const entry = entries.get(sessionId)
      if (current && entry && entry.userId === userId && sameStamps(entry.stamps, current)) {
        if (live(entry, now) && young(entry)) {
          return entry.found
        }
      }
      entries.delete(sessionId)
      const fresh = await read()
      if (!fresh || !live(fresh, now)) return undefined
      if (current) {
        entries.set(sessionId, { ...fresh, userId, stamps: current, readAt: performance.now() })
      }
      return fresh.found
    },
  }
}
