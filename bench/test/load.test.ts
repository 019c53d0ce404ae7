import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedLoop, openLoop } from '../src/load.js'

// POST /open: every 10th request is never answered, every 3rd of the others is shed with 503,
// the rest answered 200 after 5 ms. POST /stall is never answered, /slow is shed after 100 ms,
// /trickle sends its headers at once and then a byte every 100 ms for 3 s. GET /fast answers
// 200, GET /shed 503.
let posts = 0
const arrivals: number[] = []
const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.statusCode = request.url === '/fast' ? 200 : 503
    response.end('{}')
    return
  }
  request.resume()
  if (request.url === '/stall') return
  if (request.url === '/slow') {
    setTimeout(() => response.writeHead(503).end('{}'), 100)
    return
  }
  if (request.url === '/trickle') {
    response.writeHead(200)
    const drip = setInterval(() => response.write(' '), 100)
    setTimeout(() => {
      clearInterval(drip)
      response.end('{}')
    }, 3000)
    return
  }
  const n = ++posts
  arrivals.push(performance.now())
  if (n % 10 === 0) return
  if (n % 3 === 0) response.writeHead(503).end()
  else setTimeout(() => response.end('{"ok":true}'), 5)
})
let url = ''
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('openLoop', () => {
  it('keeps sending at its rate while requests hang, and counts hung, shed and admitted', async () => {
    const answered: string[] = []
    const result = await openLoop({
      ...{ url, path: '/open', body: () => '{}', rate: 200, durationS: 1 },
      ...{
        timeoutMs: 1500,
        maxConnections: 512,
        onOk: (_s: number, t: string) => answered.push(t),
      },
    })
    expect(result.sent).toBe(200)
    expect(result.hung).toBe(20)
    expect(result.statusCounts).toEqual({ 200: 120, 503: 60 })
    expect(result.ok).toBe(120)
    expect(answered).toHaveLength(120)
    expect(result.failed).toBe(0)
    expect(result.admitted.count).toBe(120)
    expect(result.admitted.p50).toBeGreaterThanOrEqual(5)
    expect(result.shed.count).toBe(60)
    // Requests kept arriving at the rate asked for, whatever became of the earlier ones: the
    // 20 hung ones held no one up.
    const spread = (arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)
    expect(spread).toBeGreaterThan(500)
    expect(spread).toBeLessThan(1400)
  })

  it('gives up each request at its deadline, even one still queued for a connection', async () => {
    const result = await openLoop({
      ...{ url, path: '/stall', body: () => '{}', rate: 100, durationS: 0.3 },
      ...{ timeoutMs: 300, maxConnections: 2 },
    })
    expect(result).toMatchObject({ sent: 30, hung: 30, ok: 0, failed: 0, statusCounts: {} })
    // The last request was due at 0.3 s and given up 0.3 s later: the run ends then.
    expect(result.elapsedS).toBeLessThan(1)
  })

  it('gives up an answer that is still arriving at the deadline', async () => {
    const result = await openLoop({
      ...{ url, path: '/trickle', body: () => '{}', rate: 20, durationS: 0.1 },
      ...{ timeoutMs: 500, maxConnections: 10 },
    })
    expect(result).toMatchObject({ sent: 2, hung: 2, ok: 0, statusCounts: {} })
    expect(result.elapsedS).toBeLessThan(1.5)
  })

  it('counts each request once: an answer after the deadline is hung, not also shed', async () => {
    // One connection, 100 ms per answer, 50 a second: the queue grows past the timeout.
    const result = await openLoop({
      ...{ url, path: '/slow', body: () => '{}', rate: 50, durationS: 0.4 },
      ...{ timeoutMs: 300, maxConnections: 1 },
    })
    const answered = Object.values(result.statusCounts).reduce((sum, n) => sum + n, 0)
    expect(result.sent).toBe(20)
    expect(answered + result.hung + result.failed).toBe(20)
    expect(result.hung).toBeGreaterThan(0)
    expect(result.shed.count).toBe(result.statusCounts['503'] ?? 0)
  })
})

describe('closedLoop', () => {
  it('counts every answer by status and keeps the latency of 2xx answers only', async () => {
    const requests = [
      { method: 'GET' as const, path: '/fast' },
      { method: 'GET' as const, path: '/shed' },
    ]
    const result = await closedLoop({ url, connections: 2, requests, durationS: 0.5 })
    const [ok, shed] = [result.statusCounts['200'] ?? 0, result.statusCounts['503'] ?? 0]
    expect(ok).toBeGreaterThan(10)
    expect(Math.abs(ok - shed)).toBeLessThanOrEqual(2)
    expect(result).toMatchObject({ ok, responses: ok + shed, socketErrors: 0, connections: 2 })
    expect(result.latency.count).toBe(ok)
    expect(result.latency.p99).toBeLessThan(500)
  })

  it('stops after `amount` requests', async () => {
    const requests = [{ method: 'GET' as const, path: '/fast' }]
    const result = await closedLoop({ url, connections: 3, requests, amount: 30 })
    expect(result.responses).toBe(30)
  })
})
