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

interface Waiter {
  start: () => void
  timer: NodeJS.Timeout
}

/**
 * Runs at most `concurrency` jobs at once, lets at most `queueLimit` more wait, and gives up on
 * a waiter after `timeoutMs`: beyond capacity a caller learns at once, instead of queueing
 * without end while its client times out.
 */
export class WorkQueue {
  private running = 0
  private readonly waiting: Waiter[] = []

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
    private readonly timeoutMs: number,
  ) {}

  get depth(): number {
    return this.waiting.length
  }

  get active(): number {
    return this.running
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await job()
    } finally {
      this.release()
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++
      return Promise.resolve()
    }
    if (this.waiting.length >= this.queueLimit)
      return Promise.reject(new QueueFullError('queue full'))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: resolve,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1)
          reject(new QueueFullError('waited too long'))
        }, this.timeoutMs),
      }
      this.waiting.push(waiter)
    })
  }

  private release(): void {
    const next = this.waiting.shift()
    if (next) {
      // The slot passes straight to the next waiter.
      clearTimeout(next.timer)
      next.start()
    } else {
      this.running--
    }
  }
}
