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
 * whether or not earlier ones have been answered, each given up after `timeoutMs`.
 * (autocannon's `overallRate` is a budget per connection and per second: a connection waiting
 * for an answer sends nothing, so a slow server lowers the offered load.) The client shares
 * the cores with what it measures, so it is kept as lean as autocannon: undici's `dispatch`
 * without a body stream or an abort signal per request, and a tick every 5 ms (a tick each
 * millisecond cost 0.04 cores in wake-ups alone).
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
  const pool = new Pool(spec.url, {
    connections: spec.maxConnections,
    headersTimeout: spec.timeoutMs,
    bodyTimeout: spec.timeoutMs,
  })
  const [admitted, shed] = [latencyRecorder(), latencyRecorder()]
  const statusCounts: Record<string, number> = {}
  let [ok, hung, failed, sent] = [0, 0, 0, 0]
  const headers = { 'content-type': 'application/json' }
  const fire = (): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = performance.now()
      const chunks: Buffer[] = []
      let status = 0
      pool.dispatch(
        { method: 'POST', path: spec.path, headers, body: spec.body() },
        {
          // undici takes a handler for its current API by this method.
          onRequestStart: () => undefined,
          onResponseStart: (_controller, statusCode) => {
            status = statusCode
          },
          onResponseData: (_controller, chunk) => {
            chunks.push(chunk)
          },
          onResponseEnd: () => {
            const ms = performance.now() - sentAt
            statusCounts[status] = (statusCounts[status] ?? 0) + 1
            // An answer later than the client would have waited is a hung request all the same.
            if (ms >= spec.timeoutMs) hung += 1
            else if (status >= 200 && status < 300) {
              ok += 1
              admitted.record(ms)
              spec.onOk?.(status, Buffer.concat(chunks).toString('utf8'))
            } else if (status === 503) shed.record(ms)
            resolve()
          },
          onResponseError: (_controller, error) => {
            const code = (error as { code?: string }).code
            const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
            if (timedOut || performance.now() - sentAt >= spec.timeoutMs) hung += 1
            else failed += 1
            resolve()
          },
        },
      )
    })
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
    const timer = setInterval(tick, 5)
  })
  // Every request is given up after its timeout, so this wait is bounded.
  await Promise.all(inFlight)
  const elapsedS = (performance.now() - started) / 1000
  await pool.close()
  return {
    ...{ offeredRate: spec.rate, elapsedS, sent, ok, statusCounts, timeoutMs: spec.timeoutMs },
    /** Unanswered after `timeoutMs` (given up, or answered too late); connection failures besides. */
    hung,
    failed,
    /** Latency of 2xx (admitted) and of 503 (shed) responses. */
    admitted: admitted.summary(),
    shed: shed.summary(),
  }
}
