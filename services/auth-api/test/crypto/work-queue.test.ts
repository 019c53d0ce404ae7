import { afterEach, describe, expect, it, vi } from 'vitest'
import { QueueFullError, WorkQueue } from '../../src/crypto/work-queue.js'

/** A job the test finishes by hand, recording when it started. */
interface Gate {
  job: () => Promise<string>
  started: boolean
  finish: () => void
  fail: (error: Error) => void
}

function gate(name: string, log: string[] = []): Gate {
  let settle!: { resolve: (value: string) => void; reject: (error: Error) => void }
  const done = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject }
  })
  const g: Gate = {
    started: false,
    finish: () => {
      settle.resolve(name)
    },
    fail: (error) => {
      settle.reject(error)
    },
    job: () => {
      g.started = true
      log.push(name)
      return done
    },
  }
  return g
}

/** Lets every settled promise's callbacks run (the queue hands slots over in microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

afterEach(() => {
  vi.useRealTimers()
})

describe('WorkQueue', () => {
  it('runs at most `concurrency` jobs at once and the rest as slots free up', async () => {
    const queue = new WorkQueue({ concurrency: 2, queueLimit: 10, timeoutMs: 10_000 })
    const gates = Array.from({ length: 5 }, (_, i) => gate(`job${i}`))
    const results = gates.map((g) => queue.run(g.job))
    await settle()
    expect(gates.map((g) => g.started)).toEqual([true, true, false, false, false])
    expect(queue.active).toBe(2)
    expect(queue.depth).toBe(3)

    gates[0]?.finish()
    await settle()
    expect(gates.map((g) => g.started)).toEqual([true, true, true, false, false])
    expect(queue.active).toBe(2)
    expect(queue.depth).toBe(2)

    for (const g of gates) g.finish()
    expect(await Promise.all(results)).toEqual(['job0', 'job1', 'job2', 'job3', 'job4'])
    expect(queue.active).toBe(0)
    expect(queue.depth).toBe(0)
  })

  it('starts waiting jobs in the order they arrived', async () => {
    const log: string[] = []
    const queue = new WorkQueue({ concurrency: 1, queueLimit: 10, timeoutMs: 10_000 })
    const gates = new Map(['a', 'b', 'c', 'd'].map((name) => [name, gate(name, log)]))
    const results = [...gates.values()].map((g) => queue.run(g.job))
    // Finish whichever job is running, one at a time: each start is the next arrival.
    for (let i = 0; i < gates.size; i++) {
      await settle()
      expect(log).toHaveLength(i + 1)
      gates.get(log[i] ?? '')?.finish()
    }
    await Promise.all(results)
    expect(log).toEqual(['a', 'b', 'c', 'd'])
  })

  it('rejects at once when the queue is full, while the running jobs are still running', async () => {
    const queue = new WorkQueue({ concurrency: 1, queueLimit: 2, timeoutMs: 10_000 })
    const gates = Array.from({ length: 3 }, (_, i) => gate(`job${i}`))
    const accepted = gates.map((g) => queue.run(g.job))
    const extra = gate('extra')
    await expect(queue.run(extra.job)).rejects.toThrow(QueueFullError)
    expect(extra.started).toBe(false)
    expect(gates.map((g) => g.started)).toEqual([true, false, false])
    expect(queue.depth).toBe(2)

    for (const g of gates) g.finish()
    await Promise.all(accepted)
  })

  it('with no room to wait, runs only what fits in its slots', async () => {
    const queue = new WorkQueue({ concurrency: 2, queueLimit: 0, timeoutMs: 10_000 })
    const gates = [gate('a'), gate('b')]
    const accepted = gates.map((g) => queue.run(g.job))
    await expect(queue.run(gate('c').job)).rejects.toThrow('queue full')
    for (const g of gates) g.finish()
    await Promise.all(accepted)
    // The slots are free again.
    await expect(queue.run(() => Promise.resolve('again'))).resolves.toBe('again')
  })

  it('gives up on a waiter after the timeout and never runs its job later', async () => {
    vi.useFakeTimers()
    const queue = new WorkQueue({
      concurrency: 1,
      queueLimit: 10,
      timeoutMs: 500,
      now: () => Date.now(),
    })
    const running = gate('running')
    const first = queue.run(running.job)
    const late = gate('late')
    const waiting = queue.run(late.job)
    const outcome = waiting.then(
      () => 'ran',
      (error: unknown) => error,
    )

    await vi.advanceTimersByTimeAsync(499)
    expect(queue.depth).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    const error = await outcome
    expect(error).toBeInstanceOf(QueueFullError)
    expect((error as Error).message).toBe('waited too long')
    expect(queue.depth).toBe(0)

    running.finish()
    await first
    await vi.advanceTimersByTimeAsync(1000)
    expect(late.started).toBe(false)
    expect(queue.active).toBe(0)
  })

  it('times out only the waiter that waited too long, keeping the others in order', async () => {
    vi.useFakeTimers()
    const log: string[] = []
    const queue = new WorkQueue({
      concurrency: 1,
      queueLimit: 10,
      timeoutMs: 500,
      now: () => Date.now(),
    })
    const running = gate('running', log)
    const first = queue.run(running.job)
    const early = gate('early', log)
    const earlyResult = queue.run(early.job).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(300)
    const later = gate('later', log)
    const laterResult = queue.run(later.job)

    await vi.advanceTimersByTimeAsync(200) // `early` has waited 500 ms, `later` 200 ms
    expect(await earlyResult).toBeInstanceOf(QueueFullError)
    running.finish()
    await first
    await vi.advanceTimersByTimeAsync(0)
    expect(later.started).toBe(true)
    // A waiter that got its slot is no longer on the clock.
    await vi.advanceTimersByTimeAsync(1000)
    later.finish()
    await expect(laterResult).resolves.toBe('later')
    expect(log).toEqual(['running', 'later'])
  })

  it('frees the slot of a job that fails, and passes the failure to its caller', async () => {
    const queue = new WorkQueue({ concurrency: 1, queueLimit: 10, timeoutMs: 10_000 })
    const failing = gate('failing')
    const next = gate('next')
    const failed = queue.run(failing.job)
    const after = queue.run(next.job)
    failing.fail(new Error('argon2 blew up'))
    await expect(failed).rejects.toThrow('argon2 blew up')
    await settle()
    expect(next.started).toBe(true)
    next.finish()
    await expect(after).resolves.toBe('next')
    expect(queue.active).toBe(0)
  })

  it('frees the slot of a job that throws before returning a promise', async () => {
    const queue = new WorkQueue({ concurrency: 1, queueLimit: 10, timeoutMs: 10_000 })
    await expect(
      queue.run(() => {
        throw new Error('synchronous')
      }),
    ).rejects.toThrow('synchronous')
    expect(queue.active).toBe(0)
    await expect(queue.run(() => Promise.resolve(1))).resolves.toBe(1)
  })
})

describe('WorkQueue admission by a queue-time budget', () => {
  /** A clock the test moves by hand. */
  function clock() {
    let t = 1000
    return {
      now: () => t,
      advance: (ms: number) => {
        t += ms
      },
    }
  }

  /** Runs `count` jobs of `ms` each one after another, so the queue learns their duration. */
  async function teach(queue: WorkQueue, time: ReturnType<typeof clock>, ms: number, count = 10) {
    for (let i = 0; i < count; i++) {
      const g = gate(`teach${i}`)
      const result = queue.run(g.job)
      await settle()
      time.advance(ms)
      g.finish()
      await result
    }
  }

  it('admits a newcomer only while its estimated wait is within the budget', async () => {
    const time = clock()
    const queue = new WorkQueue({
      concurrency: 2,
      queueLimit: 100,
      timeoutMs: 10_000,
      budgetMs: 100,
      now: time.now,
    })
    await teach(queue, time, 40)
    const gates = Array.from({ length: 7 }, (_, i) => gate(`job${i}`))
    // Two run; waiters wait (k + 1) × 40 / 2 ms: 20, 40, 60, 80, 100 are within the budget.
    const admitted = gates.map((g) => queue.run(g.job))
    await settle()
    expect(queue.active).toBe(2)
    expect(queue.depth).toBe(5)
    expect(queue.estimatedWaitMs).toBe(120)
    expect(queue.refusal()).toBeInstanceOf(QueueFullError)

    const extra = gate('extra')
    const error: unknown = await queue.run(extra.job).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(QueueFullError)
    expect((error as QueueFullError).message).toBe('over the wait budget')
    expect((error as QueueFullError).retryAfterSeconds).toBe(1)
    expect(extra.started).toBe(false)
    expect(queue.depth).toBe(5)

    // A slot freed: the next waiter starts at once and there is room for one more.
    time.advance(40)
    gates[0]?.finish()
    await settle()
    expect(queue.active).toBe(2)
    expect(queue.depth).toBe(4)
    expect(queue.refusal()).toBeUndefined()

    for (const g of gates) g.finish()
    await Promise.all(admitted)
  })

  it('admits fewer as jobs get slower, and says when to retry', async () => {
    const time = clock()
    const queue = new WorkQueue({
      concurrency: 1,
      queueLimit: 100,
      timeoutMs: 10_000,
      budgetMs: 100,
      now: time.now,
    })
    await teach(queue, time, 3000, 30)
    const running = gate('running')
    const waiter = gate('waiter')
    const admitted = [queue.run(running.job), queue.run(waiter.job)]
    await settle()
    // One waiter is always admitted (a worker never idles for want of a job) however slow.
    expect(queue.depth).toBe(1)
    const refused = queue.refusal()
    expect(refused?.retryAfterSeconds).toBe(6)
    await expect(queue.run(gate('late').job)).rejects.toThrow('over the wait budget')
    running.finish()
    await settle()
    expect(waiter.started).toBe(true)
    waiter.finish()
    await Promise.all(admitted)
  })

  it('keeps `concurrency` waiters even when the estimate says no, within the queue limit', async () => {
    const time = clock()
    const queue = new WorkQueue({
      concurrency: 2,
      queueLimit: 3,
      timeoutMs: 60_000,
      budgetMs: 1,
      now: time.now,
    })
    await teach(queue, time, 10_000)
    const gates = Array.from({ length: 4 }, (_, i) => gate(`job${i}`))
    const admitted = gates.map((g) => queue.run(g.job))
    await settle()
    expect(queue.active).toBe(2)
    expect(queue.depth).toBe(2)
    expect(queue.refusal()?.message).toBe('over the wait budget')

    const limited = new WorkQueue({ concurrency: 2, queueLimit: 1, timeoutMs: 1000 })
    const few = Array.from({ length: 3 }, (_, i) => gate(`few${i}`))
    const fewResults = few.map((g) => limited.run(g.job))
    await expect(limited.run(gate('over').job)).rejects.toThrow('queue full')

    for (const g of [...gates, ...few]) g.finish()
    await Promise.all([...admitted, ...fewResults])
  })

  it('refuses a waiter whose deadline passed by the time a slot frees, and starts the next', async () => {
    const time = clock()
    const queue = new WorkQueue({
      concurrency: 1,
      queueLimit: 10,
      timeoutMs: 500,
      now: time.now,
    })
    const running = gate('running')
    const first = queue.run(running.job)
    const stale = gate('stale')
    const staleResult = queue.run(stale.job).catch((error: unknown) => error)
    time.advance(300)
    const fresh = gate('fresh')
    const freshResult = queue.run(fresh.job)
    time.advance(250)
    running.finish()
    await first
    await settle()
    const error = await staleResult
    expect(error).toBeInstanceOf(QueueFullError)
    expect((error as Error).message).toBe('waited too long')
    expect(stale.started).toBe(false)
    expect(fresh.started).toBe(true)
    fresh.finish()
    await expect(freshResult).resolves.toBe('fresh')
  })
})
