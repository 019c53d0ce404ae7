import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

/** What a cached principal was read under: the current stamp of its user and of its session. */
export interface Stamps {
  user: string
  session: string
  /**
   * This process's connection to Redis: it changes whenever the connection is lost, so that
   * nothing cached before a Redis failover or restore (which may bring back stamps a write had
   * deleted) is used after it.
   */
  connection: number
}

/** Whose cached principals a change makes stale: every session of a user, or one session. */
export interface Stale {
  userId?: string
  sessionId?: string
}

/**
 * Shared marks that let every replica cache the caller of an authenticated request and still
 * see a revocation made on another replica at once (contract: 401 on the very next request).
 *
 * A stamp is a unique value kept in Redis for a user and for a session. A replica caches a
 * principal together with the stamps it read *before* reading MongoDB, and uses the entry only
 * while both stamps are unchanged. Every write that changes a user or ends a session deletes the
 * stamps before and after it: an entry can then only match a stamp set after the write, and so
 * was read after the write. Values are never reused (a random per-process nonce and a counter),
 * so a stamp lost with a Redis restart, expired or deleted never matches an old entry again.
 */
export interface PrincipalStamps {
  /** The stamps now (created when missing); undefined when they cannot be had: read MongoDB. */
  read(userId: string, sessionId: string): Promise<Stamps | undefined>
  /** Makes the matching cached principals stale everywhere; fails when it cannot. */
  invalidate(stale: Stale): Promise<void>
  /** Runs a write between two invalidations (see above). */
  around<T>(stale: Stale, write: () => Promise<T>): Promise<T>
}

/** Without Redis: nothing is cached, every request reads MongoDB (any number of replicas). */
export const noPrincipalStamps: PrincipalStamps = {
  read: () => Promise.resolve(undefined),
  invalidate: () => Promise.resolve(),
  around: (_stale, write) => write(),
}

// GET each key, setting it to ARGV[1] when missing; one round trip and atomic per key.
const readLua = `
local out = {}
for i, key in ipairs(KEYS) do
  local value = redis.call('GET', key)
  if not value then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    value = ARGV[1]
  end
  out[i] = value
end
return out
`

interface RedisWithStamps {
  principalStampsRead: (...args: (string | number)[]) => Promise<[string, string]>
}

/**
 * Stamps in Redis, under the service's key prefix. They expire after `ttlMs`, which bounds how
 * long an entry lives; a missing stamp only costs one MongoDB read.
 */
export function redisPrincipalStamps(
  redis: Redis,
  prefix: string,
  ttlMs = 10 * 60_000,
): PrincipalStamps {
  redis.defineCommand('principalStampsRead', { numberOfKeys: 2, lua: readLua })
  const client = redis as Redis & RedisWithStamps
  const userKey = (id: string) => `${prefix}principal:u:${id}`
  const sessionKey = (id: string) => `${prefix}principal:s:${id}`
  // A new stamp is this process's random nonce and a counter: unique across replicas and
  // restarts without drawing random bytes on every request.
  const nonce = randomBytes(12).toString('base64url')
  let counter = 0
  let connection = 0
  const lost = () => {
    connection += 1
  }
  redis.on('close', lost)
  redis.on('reconnecting', lost)
  redis.on('end', lost)

  const stamps: PrincipalStamps = {
    async read(userId, sessionId) {
      // While Redis is away, read MongoDB at once instead of waiting for a reconnect.
      if (client.status !== 'ready') return undefined
      try {
        const fresh = `${nonce}.${(++counter).toString(36)}`
        const during = connection
        const [user, session] = await client.principalStampsRead(
          userKey(userId),
          sessionKey(sessionId),
          fresh,
          ttlMs,
        )
        // Read across a reconnect: no telling which Redis answered.
        return during === connection ? { user, session, connection } : undefined
      } catch {
        return undefined
      }
    },

    async invalidate({ userId, sessionId }) {
      const keys = [
        ...(userId ? [userKey(userId)] : []),
        ...(sessionId ? [sessionKey(sessionId)] : []),
      ]
      if (keys.length > 0) await client.del(...keys)
    },

    async around(stale, write) {
      // Redis away: refuse before anything changes (the error maps to 503).
      await stamps.invalidate(stale)
      try {
        return await write()
      } finally {
        // Even after a write that failed (it may have landed); tried twice, then the caller
        // learns of it (503) and entries made meanwhile end with their age limit.
        await stamps.invalidate(stale).catch(() => stamps.invalidate(stale))
      }
    },
  }
  return stamps
}
