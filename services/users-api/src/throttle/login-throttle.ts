import { createHash } from 'node:crypto'
import { clientKey } from './client-key.js'
import type { LockoutKeys, LockoutSchedule, LockoutStore } from './lockout-store.js'

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
 * Per-account lockout with a growing delay, reset by a success. Every password check first
 * reserves its attempt: the reservation counts it as a failure in advance and is refused while
 * a lock runs, in one atomic step, so however many guesses arrive at once no more checks run
 * than the budget allows. A success resets the counts; a check that never ran is given back.
 *
 * The delay is keyed by account (so unknown and existing accounts behave alike), but a client
 * that recently logged in to the account from the same IP is judged only by that pair's own
 * failures: failures from elsewhere cannot lock the owner out.
 */
export class LoginThrottle {
  private readonly schedule: LockoutSchedule

  constructor(
    private readonly store: LockoutStore,
    private readonly policy: LockoutPolicy,
  ) {
    this.schedule = {
      delaysMs: Array.from({ length: policy.hardLimit }, (_, i) => this.delayAfter(i + 1)),
      memoryMs: policy.failureMemoryMs,
    }
  }

  /** Reserves one password check for (account, IP), or says how long to wait. */
  async reserve(account: string, ip: string): Promise<ThrottleVerdict> {
    const retryAfterMs = await this.store.reserve(this.keys(account, ip), this.schedule)
    return retryAfterMs > 0 ? { allowed: false, retryAfterMs } : { allowed: true }
  }

  /** The reserved check found the right password. */
  async success(account: string, ip: string): Promise<void> {
    await this.store.reset(this.keys(account, ip), this.policy.trustedPairTtlMs)
  }

  /** The reserved check did not run to a verdict: its attempt is given back. */
  async release(account: string, ip: string): Promise<void> {
    await this.store.release(this.keys(account, ip), this.schedule)
  }

  /** The delay after `failures` consecutive failures (0 below the threshold). */
  delayAfter(failures: number): number {
    const { threshold, baseDelayMs, maxDelayMs, hardLimit, failureMemoryMs } = this.policy
    if (failures < threshold) return 0
    if (failures >= hardLimit) return failureMemoryMs
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - threshold, 30))
  }

  private keys(account: string, ip: string): LockoutKeys {
    const a = digest(account)
    const p = digest(`${account}\n${clientKey(ip)}`)
    return {
      accountFailures: `fail:a:${a}`,
      accountLock: `lock:a:${a}`,
      pairFailures: `fail:p:${p}`,
      pairLock: `lock:p:${p}`,
      trustedPair: `trust:p:${p}`,
    }
  }
}
