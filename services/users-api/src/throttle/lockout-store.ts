import type { Redis } from 'ioredis'

/** The counters of one (account, IP) attempt. */
export interface LockoutKeys {
  accountFailures: string
  accountLock: string
  pairFailures: string
  pairLock: string
  /** Present while the pair is the owner's (a recent success from that IP). */
  trustedPair: string
}

export interface LockoutSchedule {
  /** `delaysMs[n - 1]`: how long to lock after n counted attempts; the last entry holds beyond. */
  delaysMs: number[]
  /** How long counted attempts are remembered. */
  memoryMs: number
}

/**
 * Where the lockout lives: in Redis (shared by every replica) or in this process. Each
 * operation is atomic, so a reservation is never a check followed by a separate count.
 */
export interface LockoutStore {
  /**
   * Refuses while the lock that governs this attempt runs (the pair's lock for a trusted
   * pair, the account's otherwise) and returns the milliseconds left; otherwise counts the
   * attempt against the account and the pair, locks each as the schedule says, and returns 0.
   */
  reserve(keys: LockoutKeys, schedule: LockoutSchedule): Promise<number>
  /** Gives back a reservation whose password check never ran (e.g. auth-api was down). */
  release(keys: LockoutKeys, schedule: LockoutSchedule): Promise<void>
  /** A success: forgets the account's and the pair's failures and trusts the pair. */
  reset(keys: LockoutKeys, trustedPairTtlMs: number): Promise<void>
}

const keyOrder = [
  'accountFailures',
  'accountLock',
  'pairFailures',
  'pairLock',
  'trustedPair',
] as const

// ARGV: memoryMs, then the schedule's delays. delay(n) is 0 for n <= 0.
const scheduleLua = `
local memory = tonumber(ARGV[1])
local function delay(n)
  if n <= 0 then return 0 end
  return tonumber(ARGV[math.min(n, #ARGV - 1) + 1])
end
`

const reserveLua = `${scheduleLua}
local lock = KEYS[2]
if redis.call('EXISTS', KEYS[5]) == 1 then lock = KEYS[4] end
local left = redis.call('PTTL', lock)
if left > 0 then return left end
local function count(failures, lockKey)
  local n = redis.call('INCR', failures)
  redis.call('PEXPIRE', failures, memory)
  local d = delay(n)
  if d > 0 then redis.call('SET', lockKey, '1', 'PX', d) end
end
count(KEYS[1], KEYS[2])
count(KEYS[3], KEYS[4])
return 0
`

const releaseLua = `${scheduleLua}
local function undo(failures, lockKey)
  local n = tonumber(redis.call('GET', failures) or '0')
  if n <= 0 then return end
  n = redis.call('DECR', failures)
  if delay(n) == 0 then redis.call('DEL', lockKey) end
end
undo(KEYS[1], KEYS[2])
undo(KEYS[3], KEYS[4])
return 0
`

const resetLua = `
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('SET', KEYS[5], '1', 'PX', ARGV[1])
return 0
`

type LockoutCommand = (...args: (string | number)[]) => Promise<number>
interface RedisWithLockout {
  lockoutReserve: LockoutCommand
  lockoutRelease: LockoutCommand
  lockoutReset: LockoutCommand
}

/** Lua scripts run atomically in Redis: one round trip and no race between replicas. */
export class RedisLockoutStore implements LockoutStore {
  private readonly redis: Redis & RedisWithLockout

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    const keyCount = keyOrder.length
    redis.defineCommand('lockoutReserve', { numberOfKeys: keyCount, lua: reserveLua })
    redis.defineCommand('lockoutRelease', { numberOfKeys: keyCount, lua: releaseLua })
    redis.defineCommand('lockoutReset', { numberOfKeys: keyCount, lua: resetLua })
    this.redis = redis as Redis & RedisWithLockout
  }

  reserve(keys: LockoutKeys, schedule: LockoutSchedule): Promise<number> {
    return this.redis.lockoutReserve(...this.keys(keys), schedule.memoryMs, ...schedule.delaysMs)
  }

  async release(keys: LockoutKeys, schedule: LockoutSchedule): Promise<void> {
    await this.redis.lockoutRelease(...this.keys(keys), schedule.memoryMs, ...schedule.delaysMs)
  }

  async reset(keys: LockoutKeys, trustedPairTtlMs: number): Promise<void> {
    await this.redis.lockoutReset(...this.keys(keys), trustedPairTtlMs)
  }

  private keys(keys: LockoutKeys): string[] {
    return keyOrder.map((name) => this.prefix + keys[name])
  }
}

/**
 * One process only: what a single replica (or a development run) uses without REDIS_URL.
 * JavaScript runs each operation to its end before another starts, which makes it atomic.
 *
 * At most `maxEntries` keys are kept, so a flood of distinct accounts or addresses cannot
 * grow memory without bound. Room is made only from what forgetting cannot help a guesser
 * with: expired entries, failure counts below the threshold and trusted pairs, oldest first.
 * Locks and counts that lock are never dropped (else junk logins would reset a victim's
 * lockout); when they alone fill the store, an attempt that needs a new key is refused as if
 * locked (fail closed) until some expire.
 */
export class MemoryLockoutStore implements LockoutStore {
  private readonly entries = new Map<string, MemoryEntry>()
  /** How many entries must not be dropped before they expire. */
  private keptCount = 0
  /** Sweeping for expired entries when only kept ones are left costs O(n): at most this often. */
  private nextSweepAt = 0

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  get size(): number {
    return this.entries.size
  }

  reserve(keys: LockoutKeys, schedule: LockoutSchedule): Promise<number> {
    const lock = this.live(keys.trustedPair) ? keys.pairLock : keys.accountLock
    const left = this.remainingMs(lock)
    if (left > 0) return Promise.resolve(left)
    const needed = [keys.accountFailures, keys.accountLock, keys.pairFailures, keys.pairLock]
    if (!this.makeRoom(needed.filter((key) => !this.live(key)).length)) {
      return Promise.resolve(firstDelay(schedule))
    }
    this.count(keys.accountFailures, keys.accountLock, schedule)
    this.count(keys.pairFailures, keys.pairLock, schedule)
    return Promise.resolve(0)
  }

  release(keys: LockoutKeys, schedule: LockoutSchedule): Promise<void> {
    this.undo(keys.accountFailures, keys.accountLock, schedule)
    this.undo(keys.pairFailures, keys.pairLock, schedule)
    return Promise.resolve()
  }

  reset(keys: LockoutKeys, trustedPairTtlMs: number): Promise<void> {
    for (const key of [keys.accountFailures, keys.accountLock, keys.pairFailures, keys.pairLock])
      this.remove(key)
    if (this.live(keys.trustedPair) || this.makeRoom(1)) {
      this.write(keys.trustedPair, 1, trustedPairTtlMs, false)
    }
    return Promise.resolve()
  }

  private count(failuresKey: string, lockKey: string, schedule: LockoutSchedule): void {
    const n = (this.live(failuresKey)?.count ?? 0) + 1
    const delay = delayFor(n, schedule)
    this.write(failuresKey, n, schedule.memoryMs, delay > 0)
    if (delay > 0) this.write(lockKey, 1, delay, true)
  }

  private undo(failuresKey: string, lockKey: string, schedule: LockoutSchedule): void {
    const entry = this.live(failuresKey)
    if (!entry) return
    const locks = delayFor(entry.count - 1, schedule) > 0
    this.write(failuresKey, entry.count - 1, entry.expiresAt - this.now(), locks)
    if (!locks) this.remove(lockKey)
  }

  private remainingMs(key: string): number {
    const entry = this.live(key)
    return entry ? entry.expiresAt - this.now() : 0
  }

  private live(key: string): MemoryEntry | undefined {
    const entry = this.entries.get(key)
    if (entry && entry.expiresAt <= this.now()) {
      this.remove(key)
      return undefined
    }
    return entry
  }

  private write(key: string, count: number, ttlMs: number, keep: boolean): void {
    // Re-inserted, so the Map's order is the order of last writes.
    this.remove(key)
    this.entries.set(key, { count, expiresAt: this.now() + ttlMs, keep })
    if (keep) this.keptCount += 1
  }

  private remove(key: string): void {
    const entry = this.entries.get(key)
    if (!entry) return
    this.entries.delete(key)
    if (entry.keep) this.keptCount -= 1
  }

  /** Frees room for `slots` new keys, or says there is none. */
  private makeRoom(slots: number): boolean {
    while (this.entries.size + slots > this.maxEntries) {
      if (!this.dropOne()) return false
    }
    return true
  }

  // Kept entries met on the way are moved to the back, so each is passed over once per cycle
  // rather than on every call.
  private dropOne(): boolean {
    const now = this.now()
    if (this.keptCount >= this.entries.size) {
      if (now < this.nextSweepAt) return false
      this.nextSweepAt = now + 1000
      const before = this.entries.size
      for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.remove(key)
      return this.entries.size < before
    }
    for (const [key, entry] of this.entries) {
      if (!entry.keep || entry.expiresAt <= now) {
        this.remove(key)
        return true
      }
      this.entries.delete(key)
      this.entries.set(key, entry)
    }
    return false
  }
}

interface MemoryEntry {
  count: number
  expiresAt: number
  /** A lock, or a count that locks: never dropped to make room. */
  keep: boolean
}

/** What a refused attempt is told to wait when the store has no room (fail closed). */
function firstDelay(schedule: LockoutSchedule): number {
  return schedule.delaysMs.find((delay) => delay > 0) ?? 1000
}

function delayFor(n: number, schedule: LockoutSchedule): number {
  if (n <= 0) return 0
  return schedule.delaysMs[Math.min(n, schedule.delaysMs.length) - 1] ?? 0
}
