import autocannon from 'autocannon'
import { Pool } from 'undici'
import { latencyRecorder } from './histogram.js'

export type ClosedLoopResult = Awaited<ReturnType<typeof closedLoop>>
export type OpenLoopResult = Awaited<ReturnType<typeof openLoop>>

/**
 * autocannon: `connections` each sending its next request when the last is answered (or after
 * 10 s without an answer), for `durationS` seconds or `amount` requests.
 */
export async function closedLoop(spec: {
  url: string
  connections: number
  requests: autocannon.Request[]
  durationS?: number
  amount?: number
}) {
  // autocannon's own histogram has whole milliseconds: too coarse for the fast routes.
  const latency = latencyRecorder()
  const started = performance.now()
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const limit = spec.amount ? { amount: spec.amount } : { duration: spec.durationS ?? 1 }
    const { url, connections, requests } = spec
    const options = { url, connections, requests, ...limit, pipelining: 1, timeout: 10 }
    const instance = autocannon(options, (error: unknown, outcome) => {
      if (error) reject(error instanceof Error ? error : new Error('autocannon failed'))
      else resolve(outcome)
    })
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latency.record(ms)
    })
  })
  const statusCounts = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, { count = 0 }]) => [code, count]),
  )
  return {
    connections: spec.connections,
    elapsedS: (performance.now() - started) / 1000,
    /** Responses with a 2xx status, and all of them. */
    ok: result['2xx'],
    responses: result['2xx'] + result.non2xx,
    statusCounts,
    /** Socket errors, timeouts included. */
    socketErrors: result.errors,
    timeouts: result.timeouts,
    /** Latency of 2xx responses. */
    latency: latency.summary(),
  }
}

/**
 * An open loop, as many independent clients would send: POSTs started at `rate` per second,
 * evenly spaced, whether or not earlier ones have been answered, each aborted after
 * `timeoutMs`. (autocannon's `overallRate` is a budget per connection and per second: a
 * connection waiting for an answer sends nothing, so a slow server lowers the offered load.)
 */
export async function openLoop(spec: {
  url: string
  path: string
  body: () => string
  onOk?: (status: number, text: string) => void
  rate: number
  durationS: number
  timeoutMs: number
  maxConnections: number
}) {
  const pool = new Pool(spec.url, { connections: spec.maxConnections, headersTimeout: 0 })
  const [admitted, shed] = [latencyRecorder(), latencyRecorder()]
  const statusCounts: Record<string, number> = {}
  let [ok, hung, failed, sent] = [0, 0, 0, 0]
  const fire = async (): Promise<void> => {
    const sentAt = performance.now()
    try {
      const response = await pool.request({
        method: 'POST',
        path: spec.path,
        headers: { 'content-type': 'application/json' },
        body: spec.body(),
        signal: AbortSignal.timeout(spec.timeoutMs),
      })
      const text = await response.body.text()
      const status = response.statusCode
      statusCounts[status] = (statusCounts[status] ?? 0) + 1
      if (status >= 200 && status < 300) {
        ok += 1
        admitted.record(performance.now() - sentAt)
        spec.onOk?.(status, text)
      } else if (status === 503) shed.record(performance.now() - sentAt)
    } catch (error) {
      const name = (error as Error | null)?.name ?? ''
      if (name === 'TimeoutError' || name === 'AbortError') hung += 1
      else failed += 1
    }
  }
  const total = Math.max(1, Math.round(spec.rate * spec.durationS))
  const inFlight: Promise<void>[] = []
  const started = performance.now()
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(
        total,
        Math.floor(((performance.now() - started) * spec.rate) / 1000) + 1,
      )
      for (; sent < due; sent++) inFlight.push(fire())
      if (sent < total) return
      clearInterval(timer)
      resolve()
    }
    const timer = setInterval(tick, Math.max(1, Math.min(10, 500 / spec.rate)))
  })
  // Every request carries its own timeout, so this wait is bounded.
  await Promise.all(inFlight)
  const elapsedS = (performance.now() - started) / 1000
  await pool.close()
  return {
    ...{ offeredRate: spec.rate, elapsedS, sent, ok, statusCounts, timeoutMs: spec.timeoutMs },
    /** Unanswered after `timeoutMs`, then aborted; connection-level failures besides. */
    hung,
    failed,
    /** Latency of 2xx (admitted) and of 503 (shed) responses. */
    admitted: admitted.summary(),
    shed: shed.summary(),
  }
}
