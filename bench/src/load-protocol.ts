import type { LatencySummary } from './latency.js'

/** What the load generator can send; the accounts and tokens it needs live in its process. */
export type Target = 'healthz' | 'signup' | 'login' | 'refresh' | 'me'

export interface ClosedLoopSpec {
  kind: 'closed'
  target: Target
  baseUrl: string
  connections: number
  durationS: number
  /** Seconds before an unanswered request counts as a timeout and its connection is reset. */
  timeoutS: number
}

export interface OpenLoopSpec {
  kind: 'open'
  target: Extract<Target, 'login' | 'signup'>
  baseUrl: string
  /** Requests started per second, evenly spaced, whether or not earlier ones have answered. */
  rate: number
  durationS: number
  /** Client timeout: a request still unanswered after this long counts as hung and is aborted. */
  timeoutMs: number
  /** Upper bound on open connections. */
  maxConnections: number
}

/** Names this run's accounts and sets the one password they share. */
export interface PrepareSpec {
  kind: 'prepare'
  runId: string
  password: string
}

/** Signs up `accounts` more accounts, a batch of `concurrency` at a time. */
export interface SeedSpec {
  kind: 'seed'
  baseUrl: string
  accounts: number
  concurrency: number
  timeLimitS: number
}

export interface StoreSpec {
  kind: 'store'
}

export type LoadCommand = ClosedLoopSpec | OpenLoopSpec | PrepareSpec | SeedSpec | StoreSpec

export interface ClosedLoopResult {
  target: Target
  connections: number
  elapsedS: number
  /** Responses with a 2xx status. */
  ok: number
  /** Every response, whatever its status. */
  responses: number
  statusCounts: Record<string, number>
  /** Socket errors (timeouts included) reported by the load generator. */
  socketErrors: number
  timeouts: number
  /** Latency of 2xx responses. */
  latency: LatencySummary
}

export interface OpenLoopResult {
  target: Target
  offeredRate: number
  elapsedS: number
  sent: number
  ok: number
  statusCounts: Record<string, number>
  /** Aborted by the client timeout: no answer in `timeoutMs`. */
  hung: number
  /** Connection-level failures other than the client timeout. */
  failed: number
  timeoutMs: number
  /** Latency of 2xx (admitted) responses. */
  admitted: LatencySummary
  /** Latency of 503 (shed) responses. */
  shed: LatencySummary
}

export interface StoreResult {
  accounts: number
  accessTokens: number
  refreshTokens: number
  /** Sessions this run has created (signups and logins): documents in MongoDB's sessions. */
  sessionsCreated: number
}

export type LoadReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }

export interface LoadRequest {
  id: number
  command: LoadCommand
}
