import { randomBytes } from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import { latencyRecorder } from './histogram.js'
import type { Argon2Params } from './phc.js'

// The ceiling: argon2id hash and verify throughput with auth-api's parameters and library,
// on a libuv pool of the service's size (UV_THREADPOOL_SIZE, set before this process started:
// libuv fixes it at first use), with no HTTP. Receives a CeilingSpec, answers a CeilingResult,
// and stays until stopped: the bench reads its CPU counters while it is alive.

export interface CeilingSpec {
  argon2: Argon2Params
  /** Jobs kept in flight: the service's HASH_CONCURRENCY. */
  concurrency: number
  /** Seconds per throughput measurement (hash, then verify). */
  durationS: number
  /** Seconds of one-at-a-time verifies: what a single login pays for argon2 alone. */
  singleS: number
}

export type Throughput = Awaited<ReturnType<typeof measure>>
export type CeilingResult = Awaited<ReturnType<typeof run>>

/** Runs `job` with `concurrency` in flight for `durationS` seconds. */
async function measure(concurrency: number, durationS: number, job: () => Promise<unknown>) {
  const latency = latencyRecorder()
  const started = performance.now()
  let operations = 0
  const lane = async (): Promise<void> => {
    while (performance.now() < started + durationS * 1000) {
      const t0 = performance.now()
      await job()
      latency.record(performance.now() - t0)
      operations += 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  const elapsedS = (performance.now() - started) / 1000
  return { operations, elapsedS, perSecond: operations / elapsedS, latency: latency.summary() }
}

async function run(spec: CeilingSpec) {
  const password = randomBytes(24).toString('base64url')
  const stored = await argon2Hash(password, spec.argon2)
  const verify = (): Promise<boolean> => argon2Verify(stored, password)
  // Warm the pool's threads and argon2's allocator before anything is timed.
  await Promise.all(Array.from({ length: spec.concurrency }, verify))
  return {
    threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    concurrency: spec.concurrency,
    singleVerify: await measure(1, spec.singleS, verify),
    hash: await measure(spec.concurrency, spec.durationS, () => argon2Hash(password, spec.argon2)),
    verify: await measure(spec.concurrency, spec.durationS, verify),
  }
}

// A listener for the spec keeps the IPC channel, and so this process, alive until it is stopped.
process.on('message', (spec: CeilingSpec) => {
  run(spec).then(
    (result) => process.send?.(result),
    (error: unknown) => {
      process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`)
      process.exit(1)
    },
  )
})
