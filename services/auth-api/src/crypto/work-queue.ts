/** Thrown when a job can neither run now nor wait within the queue's bounds. */
export class QueueFullError extends Error {
  override name = 'QueueFullError'
  constructor(
    message: string,
    /** When a retry has a fair chance of a slot. */
    readonly retryAfterSeconds = 1,
  ) {
    super(message)
  }
}

export interface WorkQueueOptions {
  /** Jobs running at once. */
  concurrency: number
  /** Most jobs allowed to wait, whatever the estimate says. */
  queueLimit: number
  /** Longest a job may wait for a slot before it is refused. */
  timeoutMs: number
  /**
   * Queue-time budget: a newcomer that would, by the recent job durations, wait longer than
   * this for a slot is refused at once. Defaults to `timeoutMs`.
   */
  budgetMs?: number
  /** Milliseconds on a monotonic clock; injected so tests drive time by hand. */
  now?: () => number
}

interface Waiter {
  start: () => void
  refuse: (error: QueueFullError) => void
  /** When it stops waiting (`now()` time). */
  deadline: number
}

// Weight of the newest job in the duration estimate: a few jobs follow a change of load,
// one slow job does not swing it.
const smoothing = 0.2

/**
 * Runs at most `concurrency` jobs at once and admits a waiter only when it should start within
 * the queue-time budget, estimated from recent job durations: beyond capacity a caller learns
 * at once (and cheaply, through `admits()`, before any work for its request), instead of
 * waiting while its client times out. At least `concurrency` waiters are always admitted
 * (within `queueLimit`), so a worker that finishes finds its next job even when the estimate
 * is off. A waiter still waiting after `timeoutMs` is refused; one timer serves the whole
 * queue (the oldest waiter's deadline), not one per job.
 */
export class WorkQueue {
  private running = 0
  private readonly waiting: Waiter[] = []
  private readonly concurrency: number
  private readonly queueLimit: number
  private readonly timeoutMs: number
  private readonly budgetMs: number
  private readonly now: () => number
  /** Smoothed job duration, ms; undefined until one is known. */
  private jobMs: number | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(options: WorkQueueOptions) {
    this.concurrency = options.concurrency
    this.queueLimit = options.queueLimit
    this.timeoutMs = options.timeoutMs
    this.budgetMs = Math.min(options.budgetMs ?? options.timeoutMs, options.timeoutMs)
    this.now = options.now ?? (() => performance.now())
  }

  get depth(): number {
    return this.waiting.length
  }

  get active(): number {
    return this.running
  }

  /** How long a job arriving now would wait for a slot, ms, by the recent job durations. */
  get estimatedWaitMs(): number {
    if (this.running < this.concurrency) return 0
    // It starts after every waiter ahead of it and itself have had a slot freed for them.
    return ((this.waiting.length + 1) * (this.jobMs ?? 0)) / this.concurrency
  }

  /**
   * Whether a job arriving now would be admitted; checked before a request's body is read, so
   * a refusal costs no parsing. Undefined when it would, else the refusal to answer with.
   */
  refusal(): QueueFullError | undefined {
    if (this.running < this.concurrency) return undefined
    const waiting = this.waiting.length
    if (waiting >= this.queueLimit) return this.refuse('queue full')
    if (waiting < this.concurrency) return undefined
    return this.estimatedWaitMs > this.budgetMs ? this.refuse('over the wait budget') : undefined
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    await this.acquire()
    const started = this.now()
    try {
      return await job()
    } finally {
      this.release(this.now() - started)
    }
  }

  /** Counts a job's duration, ms, toward the estimate (e.g. one measured before serving). */
  observe(jobMs: number): void {
    this.jobMs = this.jobMs === undefined ? jobMs : this.jobMs + smoothing * (jobMs - this.jobMs)
  }

  private refuse(reason: string): QueueFullError {
    // A slot frees every jobMs / concurrency: by then a retry will find the queue shorter.
    return new QueueFullError(reason, Math.max(1, Math.ceil(this.estimatedWaitMs / 1000)))
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++
      return Promise.resolve()
    }
    const refused = this.refusal()
    if (refused) return Promise.reject(refused)
    return new Promise((resolve, reject) => {
      this.waiting.push({ start: resolve, refuse: reject, deadline: this.now() + this.timeoutMs })
      this.timer ??= setTimeout(this.expire, this.timeoutMs)
    })
  }

  private release(jobMs: number): void {
    this.observe(jobMs)
    this.dropExpired()
    const next = this.waiting.shift()
    if (next) {
      // The slot passes straight to the next waiter.
      next.start()
    } else {
      this.running--
    }
  }

  /** Refuses the waiters, oldest first, whose deadline has passed. */
  private dropExpired(): void {
    const now = this.now()
    while (this.waiting.length > 0 && (this.waiting[0]?.deadline ?? Infinity) <= now) {
      this.waiting.shift()?.refuse(new QueueFullError('waited too long'))
    }
  }

  // The single timer fires at the oldest waiter's deadline (or later, if that one started in
  // the meantime), then waits for the next oldest.
  private readonly expire = (): void => {
    this.timer = undefined
    this.dropExpired()
    const head = this.waiting[0]
    if (head) this.timer = setTimeout(this.expire, Math.max(0, head.deadline - this.now()))
  }
}
