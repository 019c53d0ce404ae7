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

/** One request of the open loop, until it is answered or given up. */
interface Attempt {
  deadline: number
  settled: boolean
  /** Cancels it, once undici has started it on a connection. */
  abort?: () => void
}

const gaveUp = new Error('given up after the client timeout')

/**
 * An open loop, as many independent clients would send: POSTs started at `rate` per second,
 * whether or not earlier ones have been answered, each given up after `timeoutMs`.
 * (autocannon's `overallRate` is a budget per connection and per second: a connection waiting
 * for an answer sends nothing, so a slow server lowers the offered load.) The client shares
 * the cores with what it measures, so it is kept as lean as autocannon: undici's `dispatch`
 * without a body stream or a timer per request, and a tick every 5 ms that both starts the
 * requests due and gives up those past their deadline, wherever they are (a tick each
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
  // Deadlines are the loop's own: undici's timers start only once a request is on a socket.
  const pool = new Pool(spec.url, {
    connections: spec.maxConnections,
    headersTimeout: 0,
    bodyTimeout: 0,
  })
  const [admitted, shed] = [latencyRecorder(), latencyRecorder()]
  const statusCounts: Record<string, number> = {}
  let [ok, hung, failed, sent] = [0, 0, 0, 0]
  const headers = { 'content-type': 'application/json' }
  // Unsettled requests, oldest first: their deadlines come in the order they were sent.
  const open: Attempt[] = []
  const fire = (): void => {
    const sentAt = performance.now()
    const attempt: Attempt = { deadline: sentAt + spec.timeoutMs, settled: false }
    open.push(attempt)
    // True the first time only: an answer, an error or the deadline settles it, once.
    const settle = (): boolean => {
      if (attempt.settled) return false
      attempt.settled = true
      return true
    }
    const chunks: Buffer[] = []
    let status = 0
    pool.dispatch(
      { method: 'POST', path: spec.path, headers, body: spec.body() },
      {
        onRequestStart: (controller) => {
          attempt.abort = () => {
            controller.abort(gaveUp)
          }
          if (attempt.settled) attempt.abort()
        },
        onResponseStart: (_controller, statusCode) => {
          status = statusCode
        },
        onResponseData: (_controller, chunk) => {
          chunks.push(chunk)
        },
        onResponseEnd: () => {
          if (!settle()) return
          const ms = performance.now() - sentAt
          // An answer later than the client would have waited is a hung request all the same.
          if (ms >= spec.timeoutMs) {
            hung += 1
            return
          }
          statusCounts[status] = (statusCounts[status] ?? 0) + 1
          if (status >= 200 && status < 300) {
            ok += 1
            admitted.record(ms)
            spec.onOk?.(status, Buffer.concat(chunks).toString('utf8'))
          } else if (status === 503) shed.record(ms)
        },
        onResponseError: () => {
          if (!settle()) return
          if (performance.now() - sentAt >= spec.timeoutMs) hung += 1
          else failed += 1
        },
      },
    )
  }
  const giveUpOverdue = (now: number): void => {
    for (let head = open[0]; head; head = open[0]) {
      if (!head.settled && head.deadline > now) return
      open.shift()
      if (head.settled) continue
      head.settled = true
      hung += 1
      head.abort?.()
    }
  }
  const total = Math.max(1, Math.round(spec.rate * spec.durationS))
  const started = performance.now()
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now()
      const due = Math.min(total, Math.floor(((now - started) * spec.rate) / 1000) + 1)
      for (; sent < due; sent++) fire()
      giveUpOverdue(now)
      if (sent < total || open.length > 0) return
      clearInterval(timer)
      resolve()
    }
    const timer = setInterval(tick, 5)
  })
  const elapsedS = (performance.now() - started) / 1000
  // Requests given up while still queued in the pool are dropped, not sent.
  await pool.destroy()
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
