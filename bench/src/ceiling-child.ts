import { randomBytes } from 'node:crypto'
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2'
import type { CeilingResult, CeilingSpec, ThroughputResult } from './ceiling-protocol.js'
import { LatencyRecorder } from './latency.js'
import { phcParameters } from './phc.js'

// The ceiling: argon2id hash and verify throughput with the service's parameters, on a libuv
// pool of the service's size (UV_THREADPOOL_SIZE, set by the bench before this process
// started), with no HTTP and nothing else running. Receives a CeilingSpec, answers a
// CeilingResult, exits.

const maxOperations = 1_000_000

/** Runs `job` with `concurrency` in flight for `durationS` seconds (and at most maxOperations). */
async function measure(
  concurrency: number,
  durationS: number,
  job: () => Promise<unknown>,
): Promise<ThroughputResult> {
  const latency = new LatencyRecorder()
  const started = performance.now()
  const deadline = started + durationS * 1000
  let operations = 0
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline && operations < maxOperations) {
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

async function run(spec: CeilingSpec): Promise<CeilingResult> {
  // The library auth-api hashes with (argon2id by default), so the ceiling is auth-api's own.
  const options = spec.argon2
  const password = randomBytes(24).toString('base64url')
  const stored = await argon2Hash(password, options)
  // Warm the pool's threads and argon2's allocator before anything is timed.
  await Promise.all(Array.from({ length: spec.concurrency }, () => argon2Verify(stored, password)))
  const singleVerify = await measure(1, spec.singleS, () => argon2Verify(stored, password))
  const hash = await measure(spec.concurrency, spec.durationS, () => argon2Hash(password, options))
  const verify = await measure(spec.concurrency, spec.durationS, () =>
    argon2Verify(stored, password),
  )
  return {
    threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    concurrency: spec.concurrency,
    hash,
    verify,
    singleVerify,
    phcParams: phcParameters(stored) ?? '?',
  }
}

if (!process.send) throw new Error('ceiling-child must be started with an IPC channel')
const send = process.send.bind(process)
process.once('message', (spec: CeilingSpec) => {
  run(spec).then(
    (result) => {
      // Stays until the bench, having read the machine's CPU counters, stops it.
      send(result)
    },
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      )
      process.exit(1)
    },
  )
})
