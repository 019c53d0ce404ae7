import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedLoop, openLoop } from '../src/load.js'

// POST /open: every 10th request is never answered, every 3rd of the others is shed with 503,
// the rest answered 200 after 5 ms. GET /fast answers 200, GET /shed 503.
let posts = 0
const arrivals: number[] = []
const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.statusCode = request.url === '/fast' ? 200 : 503
    response.end('{}')
    return
  }
  request.resume()
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
