import { randomBytes } from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import type { Argon2Params } from '../config.js'
import { costLimits, needsRehash, readStoredHash } from './stored-hash.js'
import { WorkQueue } from './work-queue.js'

export type HashOperation = 'hash' | 'verify'

const tracer = trace.getTracer('auth-api')

export interface HasherOptions {
  params: Argon2Params
  concurrency: number
  queueLimit: number
  queueTimeoutMs: number
  /** Told how long each finished job took, for metrics. */
  onJob?: (operation: HashOperation, seconds: number) => void
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
    this.queue = new WorkQueue(options.concurrency, options.queueLimit, options.queueTimeoutMs)
    this.limits = costLimits(options.params)
  }

  get queueDepth(): number {
    return this.queue.depth
  }

  get activeJobs(): number {
    return this.queue.active
  }

  /** Computes the dummy hash ahead of the first unknown-user login; call before serving. */
  async init(): Promise<void> {
    await this.dummy()
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
      try {
        return await this.queue.run(async () => {
          span.addEvent('dequeued')
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
