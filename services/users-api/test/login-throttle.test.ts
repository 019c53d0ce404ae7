import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryLockoutStore, RedisLockoutStore } from '../src/throttle/lockout-store.js'
import { LoginThrottle, type LockoutPolicy } from '../src/throttle/login-throttle.js'

const policy: LockoutPolicy = {
  threshold: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  hardLimit: 20,
  failureMemoryMs: 24 * 3_600_000,
  trustedPairTtlMs: 30 * 24 * 3_600_000,
}

// These tests reserve without running checks: a refusal answers at once (no waiting for
// checks in flight) unless a test sets a wait.
function memoryThrottle(
  overrides: Partial<LockoutPolicy> = {},
  maxEntries?: number,
  inFlightWaitMs = 0,
) {
  const clock = { ms: Date.UTC(2026, 0, 1) }
  const store = new MemoryLockoutStore(() => clock.ms, maxEntries)
  const throttle = new LoginThrottle(store, { ...policy, ...overrides }, inFlightWaitMs)
  return { throttle, clock, store }
}

describe('login throttle (in memory, injected clock)', () => {
  it('allows `threshold` reservations, then refuses with the first delay', async () => {
    const { throttle, clock } = memoryThrottle()
    for (let i = 0; i < 5; i++)
      expect(await throttle.reserve('a@x.io', '192.0.2.1')).toEqual({ allowed: true })
    expect(await throttle.reserve('a@x.io', '192.0.2.1')).toEqual({
      allowed: false,
      retryAfterMs: 1000,
    })
    clock.ms += 1000
    expect((await throttle.reserve('a@x.io', '192.0.2.1')).allowed).toBe(true)
    // The sixth counted attempt doubles the delay.
    expect(await throttle.reserve('a@x.io', '192.0.2.1')).toEqual({
      allowed: false,
      retryAfterMs: 2000,
    })
  })

  it('counts an attempt at reservation: concurrent reservations never exceed the budget', async () => {
    const { throttle } = memoryThrottle()
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, () => throttle.reserve('b@x.io', '192.0.2.2')),
    )
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(5)
  })

  // A reservation counts as a failure until its verdict: concurrent right passwords must not
  // lock each other out, and concurrent wrong ones must still stop at the budget.
  it('lets a refusal due only to checks in flight wait for them and try again', async () => {
    const check = async (throttle: LoginThrottle, account: string, right: boolean) => {
      const verdict = await throttle.reserve(account, '192.0.2.70')
      if (!verdict.allowed) return false
      await new Promise((resolve) => setTimeout(resolve, 20))
      if (right) await throttle.success(account, '192.0.2.70')
      else throttle.failure(account, '192.0.2.70')
      return true
    }
    const { throttle } = memoryThrottle({}, undefined, 2000)
    const right = await Promise.all(
      Array.from({ length: 8 }, () => check(throttle, 'r@x.io', true)),
    )
    expect(right.filter(Boolean)).toHaveLength(8)
    const wrong = await Promise.all(
      Array.from({ length: 40 }, () => check(throttle, 'w@x.io', false)),
    )
    expect(wrong.filter(Boolean)).toHaveLength(5)
  })

  it('is reset by a success, and gives back a check that never ran', async () => {
    const { throttle } = memoryThrottle()
    for (let i = 0; i < 4; i++) await throttle.reserve('c@x.io', '192.0.2.3')
    await throttle.success('c@x.io', '192.0.2.3')
    for (let i = 0; i < 5; i++)
      expect((await throttle.reserve('c@x.io', '192.0.2.3')).allowed).toBe(true)
    // The fifth reservation locked the account; releasing it (auth-api was down) unlocks.
    await throttle.release('c@x.io', '192.0.2.3')
    expect((await throttle.reserve('c@x.io', '192.0.2.3')).allowed).toBe(true)
    expect((await throttle.reserve('c@x.io', '192.0.2.3')).allowed).toBe(false)
  })

  it('judges a trusted (account, IP) pair by its own failures only', async () => {
    const { throttle } = memoryThrottle()
    await throttle.reserve('d@x.io', '192.0.2.4')
    await throttle.success('d@x.io', '192.0.2.4')
    for (let i = 0; i < 8; i++) await throttle.reserve('d@x.io', '198.51.100.9')
    expect((await throttle.reserve('d@x.io', '198.51.100.9')).allowed).toBe(false)
    expect((await throttle.reserve('d@x.io', '198.51.100.10')).allowed).toBe(false)
    expect((await throttle.reserve('d@x.io', '192.0.2.4')).allowed).toBe(true)
  })

  it('stops at the hard limit until the failures are forgotten', async () => {
    const { throttle, clock } = memoryThrottle({ threshold: 2, hardLimit: 4 })
    let allowed = 0
    for (let i = 0; i < 30; i++) {
      if ((await throttle.reserve('e@x.io', '192.0.2.5')).allowed) allowed++
      clock.ms += 60_000
    }
    expect(allowed).toBe(4)
    clock.ms += policy.failureMemoryMs
    expect((await throttle.reserve('e@x.io', '192.0.2.5')).allowed).toBe(true)
  })

  it('counts IPv6 pairs by /64', async () => {
    const { throttle } = memoryThrottle()
    await throttle.reserve('f@x.io', '2001:db8:0:1::1')
    await throttle.success('f@x.io', '2001:db8:0:1::1')
    for (let i = 0; i < 8; i++) await throttle.reserve('f@x.io', '203.0.113.9')
    // Another address of the owner's /64 is still the owner's pair.
    expect((await throttle.reserve('f@x.io', '2001:db8:0:1:aaaa::2')).allowed).toBe(true)
    expect((await throttle.reserve('f@x.io', '2001:db8:0:2::1')).allowed).toBe(false)
  })

  it('keeps at most its size cap of keys under a flood of distinct accounts', async () => {
    const { throttle, store } = memoryThrottle({}, 1000)
    for (let i = 0; i < 5000; i++)
      await throttle.reserve(`flood${i}@x.io`, `10.0.${i >> 8}.${i & 255}`)
    expect(store.size).toBeLessThanOrEqual(1000)
  })

  // Junk logins must not push a victim's lock or its failure count out of a full store.
  it('never drops a lock or a count that locks to make room; drops junk below the threshold', async () => {
    const { throttle, store } = memoryThrottle({}, 40)
    for (let i = 0; i < 5; i++) await throttle.reserve('victim@x.io', '192.0.2.50')
    const locked = await throttle.reserve('victim@x.io', '192.0.2.51')
    expect(locked.allowed).toBe(false)
    for (let i = 0; i < 500; i++) {
      expect((await throttle.reserve(`junk${i}@x.io`, `10.1.${i >> 8}.${i & 255}`)).allowed).toBe(
        true,
      )
    }
    expect(store.size).toBeLessThanOrEqual(40)
    expect(await throttle.reserve('victim@x.io', '192.0.2.51')).toEqual(locked)
  })

  it('refuses new keys, as if locked, when only locks and counts that lock fill it', async () => {
    const { throttle, store, clock } = memoryThrottle({}, 40)
    // Each locked account holds four kept keys (two counts, two locks): ten fill the store.
    for (let a = 0; a < 10; a++)
      for (let i = 0; i < 5; i++) await throttle.reserve(`locked${a}@x.io`, '192.0.2.60')
    expect(store.size).toBe(40)
    expect(await throttle.reserve('new@x.io', '192.0.2.61')).toEqual({
      allowed: false,
      retryAfterMs: 1000,
    })
    for (let a = 0; a < 10; a++)
      expect((await throttle.reserve(`locked${a}@x.io`, '192.0.2.60')).allowed).toBe(false)
    // Once the locks run out there is room again; the counts that lock are kept meanwhile.
    clock.ms += 1000
    expect((await throttle.reserve('new@x.io', '192.0.2.61')).allowed).toBe(true)
    expect(store.size).toBeLessThanOrEqual(40)
  })
})

describe('login throttle in Redis', () => {
  let redis: Redis
  const prefix = `test:users-auth:${randomUUID()}:login:`

  beforeAll(async () => {
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, connectTimeout: 2000 })
    // Fails loudly when Redis is not there: these tests are about the shared store.
    expect(await redis.ping()).toBe('PONG')
  })
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  it('reserves atomically across two clients (two replicas)', async () => {
    const other = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    try {
      const a = new LoginThrottle(new RedisLockoutStore(redis, prefix), policy, 0)
      const b = new LoginThrottle(new RedisLockoutStore(other, prefix), policy, 0)
      const verdicts = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve('g@x.io', '192.0.2.7')),
      )
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(5)
      const waits = verdicts.flatMap((v) => (v.allowed ? [] : [v.retryAfterMs]))
      expect(Math.min(...waits)).toBeGreaterThan(900)
    } finally {
      other.disconnect()
    }
  })

  it('resets on success and gives back a released reservation', async () => {
    const throttle = new LoginThrottle(new RedisLockoutStore(redis, prefix), policy, 0)
    for (let i = 0; i < 5; i++) await throttle.reserve('h@x.io', '192.0.2.8')
    expect((await throttle.reserve('h@x.io', '192.0.2.8')).allowed).toBe(false)
    await throttle.release('h@x.io', '192.0.2.8')
    expect((await throttle.reserve('h@x.io', '192.0.2.8')).allowed).toBe(true)
    await throttle.success('h@x.io', '192.0.2.8')
    for (let i = 0; i < 5; i++)
      expect((await throttle.reserve('h@x.io', '192.0.2.8')).allowed).toBe(true)
  })
})
