import { randomBytes } from 'node:crypto'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import argon2 from 'argon2'
import type { Argon2Params } from '../config.js'
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

/** The stored hash is not an argon2 PHC string we are willing to verify. */
export class UnusableHashError extends Error {
  override name = 'UnusableHashError'
}

// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (parameters in any order); other argon2
// variants verify and then ask for a rehash.
const phc =
  /^\$argon2(?:id|i|d)\$v=\d+\$([a-z]=\d+(?:,[a-z]=\d+)*)\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}$/

// Bounds on parameters read from a stored hash, so a planted hash cannot exhaust memory or CPU.
const bounds: Record<string, number> = { m: 1024 * 1024, t: 16, p: 16 }

function assertUsable(hash: string): void {
  const params = phc.exec(hash)?.[1]
  if (!params) throw new UnusableHashError('not an argon2 PHC string')
  const values = new Map(params.split(',').map((kv) => [kv[0] ?? '', Number(kv.slice(2))] as const))
  for (const [name, max] of Object.entries(bounds)) {
    const value = values.get(name)
    if (value === undefined || value < 1 || value > max) {
      throw new UnusableHashError('argon2 parameters out of bounds')
    }
  }
}

/**
 * argon2id hashing on libuv's pool, bounded by a work queue. A verify against `null` runs
 * against a dummy hash with the current parameters, so "no such user" costs what a wrong
 * password costs.
 */
export class PasswordHasher {
  private readonly queue: WorkQueue
  private dummyHash: Promise<string> | undefined

  constructor(private readonly options: HasherOptions) {
    this.queue = new WorkQueue(options.concurrency, options.queueLimit, options.queueTimeoutMs)
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
      await this.timed('verify', () => argon2.verify(dummy, password))
      return { valid: false, needsRehash: false }
    }
    assertUsable(hash)
    const valid = await this.timed('verify', () => argon2.verify(hash, password))
    return { valid, needsRehash: valid && this.needsRehash(hash) }
  }

  needsRehash(hash: string): boolean {
    // argon2's own check only looks at m, t and the version; a weaker variant also counts.
    if (!hash.startsWith('$argon2id$')) return true
    const { memoryCost, timeCost, parallelism } = this.options.params
    return argon2.needsRehash(hash, { memoryCost, timeCost, parallelism })
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.rawHash(randomBytes(32).toString('base64'))
    return this.dummyHash
  }

  private rawHash(password: string): Promise<string> {
    const { memoryCost, timeCost, parallelism } = this.options.params
    return argon2.hash(password, { type: argon2.argon2id, memoryCost, timeCost, parallelism })
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
