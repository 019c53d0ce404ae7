import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { bearer, buildAuthApi, type Harness } from './auth-api-harness.js'

let harness: Harness | undefined
afterEach(async () => {
  await harness?.app.close()
  harness = undefined
})

interface Answer {
  status: number | 'hung'
  retryAfter: string | null
}

/** The sum of a histogram's observations at or below `le` seconds, and of all of them. */
function bucket(metrics: string, name: string, le: string): { within: number; all: number } {
  const count = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? Number.NaN)
  return {
    within: count(new RegExp(`${name}_bucket\\{le="${le}"\\} (\\d+)`)),
    all: count(new RegExp(`${name}_count (\\d+)`)),
  }
}

describe('hashing under overload, over real HTTP', () => {
  it('answers every call 200 or 503 with Retry-After, hangs none, and admits only what fits the budget', async () => {
    // Costly enough that a burst far outruns one worker; a queue limit and a timeout far above
    // what the budget admits, so only the budget keeps the waits short.
    harness = await buildAuthApi({
      env: {
        ARGON2_MEMORY_KIB: '16384',
        ARGON2_ITERATIONS: '2',
        HASH_CONCURRENCY: '1',
        HASH_QUEUE_LIMIT: '1000',
        HASH_QUEUE_TIMEOUT_MS: '30000',
        HASH_QUEUE_BUDGET_MS: '100',
      },
    })
    const base = await harness.app.listen({ port: 0, host: '127.0.0.1' })
    const call = async (): Promise<Answer> => {
      try {
        const res = await fetch(`${base}/v1/passwords/hash`, {
          method: 'POST',
          headers: { ...bearer, 'content-type': 'application/json' },
          body: JSON.stringify({ password: 'an open loop of hashing' }),
          signal: AbortSignal.timeout(10_000),
        })
        await res.arrayBuffer()
        return { status: res.status, retryAfter: res.headers.get('retry-after') }
      } catch {
        return { status: 'hung', retryAfter: null }
      }
    }
    // An open loop: calls keep coming, answered or not, far faster than one worker hashes.
    const calls: Promise<Answer>[] = []
    for (let i = 0; i < 120; i++) {
      calls.push(call())
      await sleep(2)
    }
    const answers = await Promise.all(calls)

    expect(answers.filter((a) => a.status === 'hung')).toEqual([])
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([])
    const admitted = answers.filter((a) => a.status === 200).length
    const refused = answers.filter((a) => a.status === 503)
    expect(admitted).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    for (const r of refused) expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1)

    // Every admitted job started within about the budget (0.1 s): a queue that let all 120
    // wait would have kept the last ones for seconds.
    const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body
    const waits = bucket(metrics, 'auth_password_queue_wait_seconds', '0.5')
    expect(waits.all).toBe(admitted)
    expect(waits.within).toBe(waits.all)
  })
})
