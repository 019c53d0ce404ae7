import type { LatencySummary } from './latency.js'

export interface Argon2Settings {
  memoryCost: number
  timeCost: number
  parallelism: number
}

export interface CeilingSpec {
  argon2: Argon2Settings
  /** Jobs kept in flight: the service's HASH_CONCURRENCY. */
  concurrency: number
  /** Seconds per throughput measurement (hash, then verify). */
  durationS: number
  /** Seconds of one-at-a-time verifies, for the raw latency of a single verify. */
  singleS: number
}

export interface ThroughputResult {
  operations: number
  elapsedS: number
  perSecond: number
  latency: LatencySummary
}

export interface CeilingResult {
  threadPoolSize: number
  concurrency: number
  hash: ThroughputResult
  verify: ThroughputResult
  /** One verify at a time: what a single login pays for argon2 alone. */
  singleVerify: ThroughputResult
  /** Variant and parameters of the hashes made here, e.g. `argon2id m=19456,t=2,p=1`. */
  phcParams: string
}
