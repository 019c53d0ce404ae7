import type { Redis } from 'ioredis'

/**
 * Counters with an expiry, shared by every replica when they live in Redis. Only what the
 * login throttle needs: count up, read, hold a lock for a while, forget.
 */
export interface CounterStore {
  /** Adds one and (re)starts the expiry; returns the new count. */
  increment(key: string, ttlMs: number): Promise<number>
  /** Sets a marker that lives `ttlMs`. */
  hold(key: string, ttlMs: number): Promise<void>
  /** Milliseconds left on a marker or counter; 0 when absent. */
  remainingMs(key: string): Promise<number>
  forget(...keys: string[]): Promise<void>
}

export class RedisCounterStore implements CounterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async increment(key: string, ttlMs: number): Promise<number> {
    const results = await this.redis
      .multi()
      .incr(this.prefix + key)
      .pexpire(this.prefix + key, ttlMs)
      .exec()
    return Number(results?.[0]?.[1] ?? 0)
  }

  async hold(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, '1', 'PX', ttlMs)
  }

  async remainingMs(key: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.prefix + key))
  }

  async forget(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys.map((k) => this.prefix + k))
  }
}

/** One process only: what a single replica (or a development run) uses without REDIS_URL. */
export class MemoryCounterStore implements CounterStore {
  private readonly entries = new Map<string, { count: number; expiresAt: number }>()

  constructor(private readonly now: () => number = Date.now) {}

  increment(key: string, ttlMs: number): Promise<number> {
    const entry = this.live(key)
    const count = (entry?.count ?? 0) + 1
    this.entries.set(key, { count, expiresAt: this.now() + ttlMs })
    this.sweep()
    return Promise.resolve(count)
  }

  hold(key: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { count: 1, expiresAt: this.now() + ttlMs })
    return Promise.resolve()
  }

  remainingMs(key: string): Promise<number> {
    const entry = this.live(key)
    return Promise.resolve(entry ? entry.expiresAt - this.now() : 0)
  }

  forget(...keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key)
    return Promise.resolve()
  }

  private live(key: string) {
    const entry = this.entries.get(key)
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry
  }

  // Keeps memory bounded under a flood of distinct keys.
  private sweep(): void {
    if (this.entries.size < 100_000) return
    const now = this.now()
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key)
  }
}
