import { describe, expect, it } from 'vitest'
import type { CeilingResult } from '../src/ceiling-child.js'
import type { ClosedLoopResult, OpenLoopResult } from '../src/load.js'
import { computeRatios, describeMachine, toMarkdown, type Results } from '../src/report.js'

const latency = { count: 1, p50: 10, p95: 20, p99: 30, max: 40, mean: 12 }
const closed = (ok: number): ClosedLoopResult => ({
  ...{ connections: 8, elapsedS: 10, ok, responses: ok, statusCounts: { 200: ok } },
  ...{ socketErrors: 0, timeouts: 0, latency },
})
const pass = { operations: 1000, elapsedS: 10, perSecond: 100, latency }
const ceiling: CeilingResult = {
  ...{ threadPoolSize: 2, concurrency: 2, hash: pass, verify: pass, singleVerify: pass },
}
const cpu = (usersApi: number, authMain = 0) => ({
  ...{ seconds: 10, benchCores: 1, otherCores: 0 },
  byProcess: {
    'users-api': { seconds: usersApi, mainThreadSeconds: usersApi },
    'auth-api': { seconds: 5, mainThreadSeconds: authMain },
  },
})
const overload: OpenLoopResult = {
  ...{ offeredRate: 270, elapsedS: 10, sent: 2700, ok: 800, statusCounts: { 200: 800, 503: 1900 } },
  ...{ hung: 0, failed: 0, timeoutMs: 5000, admitted: { ...latency, p99: 1200 }, shed: latency },
}
const measured: Omit<Results, 'ratios'> = {
  ...{ mode: 'full', machine: describeMachine(), notes: [], settings: {}, datasets: {} },
  ...{ ceiling, ceilingPasses: { before: ceiling, after: ceiling }, breakdowns: {} },
  // 90 logins/s, 80 signups/s, me at half the baseline's rate.
  scenarios: {
    ...{ login: closed(900), signup: closed(800), me: closed(500) },
    ...{ healthz: closed(1000), refresh: closed(1000) },
  },
  // Per request, users-api: login 1.33 ms, signup 2 ms, me 0.1 ms, refresh 0.5 ms.
  cpu: {
    ...{ login: cpu(1.2, 0.54), signup: cpu(1.6), me: cpu(0.05), refresh: cpu(0.5) },
    overload: null,
  },
  overload,
}

describe('computeRatios', () => {
  const ratios = computeRatios(measured, new Set(['login']))
  const find = (name: string) => ratios.find((r) => r.name.startsWith(name))

  it('holds each measure to its target', () => {
    expect(
      ratios.map((r) => [r.name, r.value === null ? null : +r.value.toFixed(2), r.met]),
    ).toEqual([
      ['login ÷ argon2 verify ceiling (same run)', 0.9, true],
      ['signup ÷ argon2 hash ceiling', 0.8, false],
      ['users-api CPU per login', 1.33, true],
      ['users-api CPU per signup', 2, false],
      ['users-api CPU per /v1/users/me', 0.1, true],
      ['users-api CPU per refresh', 0.5, false],
      ['auth-api main-thread CPU per login', 0.6, false],
      ['/me ÷ /healthz throughput', 0.5, true],
      ['overload at 3×: goodput ÷ closed-loop login throughput', 0.89, true],
      ['overload at 3×: admitted p99', 1200, false],
      ['overload at 3×: hung past the client timeout', 0, true],
    ])
  })

  it('marks the ratios that rest on a disturbed measurement', () => {
    expect(find('login ÷')?.disturbedBy).toEqual(['login'])
    expect(find('signup ÷')?.disturbedBy).toEqual([])
  })

  it('has no verdict without the measurement, and no overload targets without an overload', () => {
    const partial = computeRatios({ ...measured, scenarios: {}, overload: null }, new Set())
    expect(partial.find((r) => r.name.startsWith('login ÷'))?.met).toBeNull()
    expect(partial.some((r) => r.name.startsWith('overload'))).toBe(false)
  })

  it('puts the verdicts in the report', () => {
    const markdown = toMarkdown({ ...measured, ratios })
    expect(markdown).toContain(
      '| users-api CPU per login | 1.33 ms | ≤ 1.5 ms | met (disturbed: login) |',
    )
    expect(markdown).toContain('| 270.0 | 2700 | 80.0 | 10 / 20 / 1200 | 70.4 % (1900) |')
    expect(markdown).toContain('| POST /v1/auth/login | 8 | 90.0 | 10.00 | 20.00 | 30.00 | 0 |')
  })

  it('never shows a missed value rounded onto its bound', () => {
    // 76.23 admitted a second against 90 logins a second: 0.847 ×, against ≥ 0.85.
    const short = { ...overload, ok: 762.3 }
    const near = computeRatios({ ...measured, overload: short }, new Set())
    const markdown = toMarkdown({ ...measured, overload: short, ratios: near })
    expect(markdown).toContain(
      '| overload at 3×: goodput ÷ closed-loop login throughput | 0.847 × |',
    )
    expect(markdown).toContain('| users-api CPU per login | 1.33 ms |')
  })
})
