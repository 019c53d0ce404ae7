import { createHash } from 'node:crypto'
import type { CounterStore } from './counter-store.js'

export interface LockoutPolicy {
  /** Consecutive failures allowed before attempts are delayed. */
  threshold: number
  /** First delay once the threshold is reached; doubles with each further failure. */
  baseDelayMs: number
  /** The longest delay. */
  maxDelayMs: number
  /**
   * Consecutive failures after which attempts stop until the failures are forgotten: far
   * below NIST's 100, however patient the guesser.
   */
  hardLimit: number
  /** How long a successful login marks its (account, IP) pair as the owner's. */
  trustedPairTtlMs: number
  /** How long failures are remembered without a new one. */
  failureMemoryMs: number
}

export type ThrottleVerdict = { allowed: true } | { allowed: false; retryAfterMs: number }

// Keys carry a digest, not the email or the IP: nothing personal sits in Redis in clear.
const digest = (value: string) =>
  createHash('sha256').update(value).digest('base64url').slice(0, 22)

/**
 * Per-account lockout with a growing delay, reset by a success. The delay is keyed by account
 * (so unknown and existing accounts behave alike), but a client that recently logged in to the
 * account from the same IP is judged only by that pair's own failures: failures from elsewhere
 * cannot lock the owner out.
 */
export class LoginThrottle {
  constructor(
    private readonly store: CounterStore,
    private readonly policy: LockoutPolicy,
  ) {}

  async check(account: string, ip: string): Promise<ThrottleVerdict> {
    const keys = this.keys(account, ip)
    // Read together: one round trip to Redis (auto-pipelined), not three.
    const [trusted, pairLock, accountLock] = await Promise.all([
      this.store.remainingMs(keys.trustedPair),
      this.store.remainingMs(keys.pairLock),
      this.store.remainingMs(keys.accountLock),
    ])
    const retryAfterMs = trusted > 0 ? pairLock : accountLock
    return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true }
  }

  async failure(account: string, ip: string): Promise<void> {
    const keys = this.keys(account, ip)
    const { failureMemoryMs } = this.policy
    const [accountFailures, pairFailures] = await Promise.all([
      this.store.increment(keys.accountFailures, failureMemoryMs),
      this.store.increment(keys.pairFailures, failureMemoryMs),
    ])
    await Promise.all([
      this.lockIfDue(keys.accountLock, accountFailures),
      this.lockIfDue(keys.pairLock, pairFailures),
    ])
  }

  async success(account: string, ip: string): Promise<void> {
    const keys = this.keys(account, ip)
    await Promise.all([
      this.store.forget(keys.accountFailures, keys.accountLock, keys.pairFailures, keys.pairLock),
      this.store.hold(keys.trustedPair, this.policy.trustedPairTtlMs),
    ])
  }

  /** The delay after `failures` consecutive failures (0 below the threshold). */
  delayAfter(failures: number): number {
    const { threshold, baseDelayMs, maxDelayMs, hardLimit, failureMemoryMs } = this.policy
    if (failures < threshold) return 0
    if (failures >= hardLimit) return failureMemoryMs
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - threshold, 30))
  }

  private async lockIfDue(lockKey: string, failures: number): Promise<void> {
    const delay = this.delayAfter(failures)
    if (delay > 0) await this.store.hold(lockKey, delay)
  }

  private keys(account: string, ip: string) {
    const a = digest(account)
    const p = digest(`${account}\n${ip}`)
    return {
      accountFailures: `fail:a:${a}`,
      accountLock: `lock:a:${a}`,
      pairFailures: `fail:p:${p}`,
      pairLock: `lock:p:${p}`,
      trustedPair: `trust:p:${p}`,
    }
  }
}
