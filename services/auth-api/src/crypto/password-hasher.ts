import { randomBytes } from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import type { Argon2Params } from '../config.js'
import { costLimits, needsRehash, readStoredHash } from './stored-hash.js'
import { WorkQueue, type QueueFullError } from './work-queue.js'

export type HashOperation = 'hash' | 'verify'

const tracer = trace.getTracer('auth-api')

export interface HasherOptions {
  params: Argon2Params
  concurrency: number
  queueLimit: number
  queueTimeoutMs: number
  /** Longest expected wait for a slot at which a job is still admitted. */
  queueBudgetMs?: number
  /** Told how long each finished job took, for metrics. */
  onJob?: (operation: HashOperation, seconds: number) => void
  /** Told how long each started job waited for its slot, for metrics. */
  onWait?: (seconds: number) => void
}

/**
 * argon2id hashing on libuv's pool (`@node-rs/argon2` runs its jobs there, so
 * `UV_THREADPOOL_SIZE` sizes it), bounded by a work queue. Hashes are standard PHC strings
 * (`m=…,t=…,p=…`) that any argon2 implementation verifies. A verify against `null` runs against
 * a dummy hash with the current parameters, so "no such user" costs what a wrong password
 * costs.
 */
export class PasswordHasher {
  private readonly queue: WorkQueue
  private readonly limits: Argon2Params
  private dummyHash: Promise<string> | undefined

  constructor(private readonly options: HasherOptions) {
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      queueLimit: options.queueLimit,
      timeoutMs: options.queueTimeoutMs,
      ...(options.queueBudgetMs === undefined ? {} : { budgetMs: options.queueBudgetMs }),
    })
    this.limits = costLimits(options.params)
  }

  get queueDepth(): number {
    return this.queue.depth
  }

  get activeJobs(): number {
    return this.queue.active
  }

  /**
   * The refusal a job arriving now would get (the queue is over its wait budget), or undefined:
   * asked before a request's body is read, so refusing costs no parsing and no hashing.
   */
  busy(): QueueFullError | undefined {
    return this.queue.refusal()
  }

  /**
   * Computes the dummy hash ahead of the first unknown-user login; call before serving. Its
   * duration is the queue's first estimate of a job's, so a burst at start-up is already
   * admitted by the wait budget.
   */
  async init(): Promise<void> {
    const started = performance.now()
    await this.dummy()
    this.queue.observe(performance.now() - started)
  }

  async hash(password: string): Promise<string> {
    return this.timed('hash', () => this.rawHash(password))
  }

  async verify(
    password: string,
    hash: string | null,
  ): Promise<{ valid: boolean; needsRehash: boolean }> {
    if (hash === null) {
      const dummy = await this.dummy()
      await this.timed('verify', () => argon2Verify(dummy, password))
      return { valid: false, needsRehash: false }
    }
    // Throws UnusableHashError before any work for a foreign, malformed or too costly hash.
    const stored = readStoredHash(hash, this.limits)
    const valid = await this.timed('verify', () => argon2Verify(hash, password))
    return { valid, needsRehash: valid && needsRehash(stored, this.options.params) }
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.rawHash(randomBytes(32).toString('base64'))
    return this.dummyHash
  }

  private rawHash(password: string): Promise<string> {
    const { memoryCost, timeCost, parallelism } = this.options.params
    // The package's defaults are argon2id and version 19 (its `Algorithm` is a const enum,
    // which isolated modules cannot name); the tests hold it to that.
    return argon2Hash(password, { memoryCost, timeCost, parallelism })
  }

  // One span per job, from the request's arrival in the queue to the job's end (a no-op when
  // tracing is off); the event marks where waiting ended and argon2 began.
  private timed<T>(operation: HashOperation, job: () => Promise<T>): Promise<T> {
    const { memoryCost, timeCost, parallelism } = this.options.params
    return tracer.startActiveSpan(`argon2.${operation}`, async (span) => {
      span.setAttributes({
        'argon2.memory_kib': memoryCost,
        'argon2.iterations': timeCost,
        'argon2.parallelism': parallelism,
      })
      const queued = performance.now()
      try {
        return await this.queue.run(async () => {
          span.addEvent('dequeued')
          this.options.onWait?.((performance.now() - queued) / 1000)
          const started = process.hrtime.bigint()
          try {
            return await job()
          } finally {
            this.options.onJob?.(operation, Number(process.hrtime.bigint() - started) / 1e9)
          }
        })
      } catch (error) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.name : 'error',
        })
        throw error
      } finally {
        span.end()
      }
    })
  }
}
