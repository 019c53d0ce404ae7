import { createHash } from 'node:crypto'
import { within } from '@users-auth/service-kit'
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
  /** This process's reserved checks still running, by account key. */
  private readonly inFlight = new Map<string, InFlight>()

  /**
   * @param inFlightWaitMs how long a refused attempt may wait for this process's checks of the
   *   same account to finish before it is told to retry later (about auth-api's deadline).
   */
  constructor(
    private readonly store: LockoutStore,
    private readonly policy: LockoutPolicy,
    private readonly inFlightWaitMs = 2000,
  ) {
    this.schedule = {
      delaysMs: Array.from({ length: policy.hardLimit }, (_, i) => this.delayAfter(i + 1)),
      memoryMs: policy.failureMemoryMs,
    }
  }

  /**
   * Reserves one password check for (account, IP), or says how long to wait. A reservation
   * counts as a failure before its verdict is known, so a refusal may be due only to checks
   * still running (the owner logging in from several tabs at once): while this process has
   * such checks for the account, the refused attempt waits for them to finish (a success
   * resets the count) and tries again, for at most `inFlightWaitMs`. Each try is the same
   * atomic reservation, so no more checks run than the budget allows.
   */
  async reserve(account: string, ip: string): Promise<ThrottleVerdict> {
    const keys = this.keys(account, ip)
    const waitUntil = Date.now() + this.inFlightWaitMs
    for (;;) {
      const retryAfterMs = await this.store.reserve(keys, this.schedule)
      if (retryAfterMs <= 0) {
        this.begin(keys.accountFailures)
        return { allowed: true }
      }
      const running = this.inFlight.get(keys.accountFailures)
      const left = waitUntil - Date.now()
      if (!running || left <= 0) return { allowed: false, retryAfterMs }
      await within(running.settled, left)
    }
  }

  /** The reserved check found the right password. */
  async success(account: string, ip: string): Promise<void> {
    const keys = this.keys(account, ip)
    try {
      await this.store.reset(keys, this.policy.trustedPairTtlMs)
    } finally {
      this.end(keys.accountFailures)
    }
  }

  /** The reserved check found a wrong password: it stays counted. */
  failure(account: string, ip: string): void {
    this.end(this.keys(account, ip).accountFailures)
  }

  /** The reserved check did not run to a verdict: its attempt is given back. */
  async release(account: string, ip: string): Promise<void> {
    const keys = this.keys(account, ip)
    try {
      await this.store.release(keys, this.schedule)
    } finally {
      this.end(keys.accountFailures)
    }
  }

  private begin(key: string): void {
    const running = this.inFlight.get(key)
    if (running) {
      running.count += 1
      return
    }
    let resolve = () => {}
    const settled = new Promise<void>((r) => (resolve = r))
    this.inFlight.set(key, { count: 1, settled, resolve })
  }

  private end(key: string): void {
    const running = this.inFlight.get(key)
    if (!running) return
    running.count -= 1
    if (running.count > 0) return
    this.inFlight.delete(key)
    running.resolve()
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

interface InFlight {
  count: number
  /** Resolves when the last of them finishes. */
  settled: Promise<void>
  resolve: () => void
}
