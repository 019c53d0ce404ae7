import type { CeilingResult } from './ceiling-protocol.js'
import type { CpuUsage, ProcessCpu } from './cpu-monitor.js'
import type { LatencySummary } from './latency.js'
import type { Breakdown } from './metrics.js'
import type { ClosedLoopResult, OpenLoopResult } from './load-protocol.js'
import { machineLine, type Machine } from './machine.js'

export interface ScenarioRow {
  name: string
  /** Connections held open by the load generator (closed loop), or null. */
  connections: number | null
  perSecond: number
  latency: LatencySummary
  /** Non-2xx answers plus socket errors and timeouts. */
  errors: number
  statusCounts: Record<string, number>
  /** Cores' worth of CPU used by processes outside the bench during the measurement. */
  otherCores?: number | null
  /** Accounts and sessions in MongoDB when the measurement started. */
  dataset?: Dataset | null
}

/** Documents in MongoDB when a measurement started (as the bench created them). */
export interface Dataset {
  users: number
  sessions: number
}

export interface Ratio {
  name: string
  value: number | null
  unit: string
  target: string
  met: boolean | null
  how: string
  /** Measurements behind this ratio during which other processes were busy. */
  disturbedBy: string[]
}

/** What the services did during the overload, from their own counters. */
export interface OverloadWork {
  /** Answers by `METHOD route status`. */
  usersApi: Record<string, number>
  authApi: Record<string, number>
  /** argon2 jobs auth-api finished, by operation. */
  argon2Jobs: Record<string, number>
}

/** One try at a measurement: how much CPU other processes used meanwhile, and whether kept. */
export interface Attempt {
  otherCores: number | null
  kept: boolean
}

export interface Results {
  mode: 'full' | 'quick' | 'partial'
  machine: Machine
  /** What shares the machine with the services while they are measured. */
  notes: string[]
  settings: Record<string, string | number | boolean>
  /** The reference: the better of the two ceiling passes. */
  ceiling: CeilingResult
  ceilingPasses: { before: CeilingResult; after: CeilingResult }
  scenarios: Record<string, ClosedLoopResult>
  overload: OpenLoopResult | null
  overloadWork: OverloadWork | null
  /** Measurements taken more than once because other processes disturbed them. */
  attempts: Record<string, Attempt[]>
  /** Accounts and sessions in MongoDB when each measurement started. */
  datasets: Record<string, Dataset>
  cpu: Record<string, CpuUsage | null>
  /** Per scenario title: where the time went, from the services' metrics. */
  breakdowns: Record<string, Breakdown | null>
  rows: ScenarioRow[]
  ratios: Ratio[]
}

export function ceilingRows(c: CeilingResult): ScenarioRow[] {
  const row = (name: string, r: CeilingResult['hash'], connections: number): ScenarioRow => ({
    name,
    connections,
    perSecond: r.perSecond,
    latency: r.latency,
    errors: 0,
    statusCounts: {},
  })
  return [
    row(`argon2id hash ceiling (no HTTP, ${c.concurrency} in flight)`, c.hash, c.concurrency),
    row(`argon2id verify ceiling (no HTTP, ${c.concurrency} in flight)`, c.verify, c.concurrency),
    row('argon2id verify, one at a time (no HTTP)', c.singleVerify, 1),
  ]
}

export function errorsOf(r: ClosedLoopResult): number {
  return r.responses - r.ok + r.socketErrors
}

export function closedRow(name: string, r: ClosedLoopResult): ScenarioRow {
  return {
    name,
    connections: r.connections,
    perSecond: r.ok / r.elapsedS,
    latency: r.latency,
    errors: errorsOf(r),
    statusCounts: r.statusCounts,
  }
}

function ratio(numerator: number | null | undefined, denominator: number | null | undefined) {
  return numerator == null || denominator == null || denominator === 0
    ? null
    : numerator / denominator
}

/** The ratios issue #6 asks for, each with its target. */
export function computeRatios(
  ceiling: CeilingResult,
  s: Record<string, ClosedLoopResult>,
  overload: OpenLoopResult | null,
  disturbed: ReadonlySet<string> = new Set(),
): Ratio[] {
  const by = (...keys: string[]): string[] => keys.filter((key) => disturbed.has(key))
  const rate = (key: string): number | null => {
    const r = s[key]
    return r ? r.ok / r.elapsedS : null
  }
  const atLeast = (value: number | null, min: number): boolean | null =>
    value === null ? null : value >= min
  const atMost = (value: number | null, max: number): boolean | null =>
    value === null ? null : value <= max
  const login = ratio(rate('login'), ceiling.verify.perSecond)
  const signup = ratio(rate('signup'), ceiling.hash.perSecond)
  const me = ratio(rate('me'), rate('healthz'))
  const halfP50 = s['login-half']?.latency.p50
  const rawP50 = ceiling.singleVerify.latency.p50
  const overhead = halfP50 == null || rawP50 === null ? null : halfP50 - rawP50
  const ratios: Ratio[] = [
    {
      name: 'login ÷ argon2 verify ceiling',
      value: login,
      unit: '×',
      target: '≥ 0.85',
      met: atLeast(login, 0.85),
      how: 'POST /v1/auth/login 2xx/s ÷ raw verify/s',
      disturbedBy: by('ceiling', 'login'),
    },
    {
      name: 'signup ÷ argon2 hash ceiling',
      value: signup,
      unit: '×',
      target: '≥ 0.85',
      met: atLeast(signup, 0.85),
      how: 'POST /v1/auth/signup 2xx/s ÷ raw hash/s',
      disturbedBy: by('ceiling', 'signup'),
    },
    {
      name: 'two-hop overhead at p50, half load',
      value: overhead,
      unit: 'ms',
      target: '≤ 2 ms',
      met: atMost(overhead, 2),
      how: 'login p50 at half load − raw verify p50 (one at a time)',
      disturbedBy: by('ceiling', 'login-half'),
    },
    {
      name: 'GET /v1/users/me ÷ framework baseline',
      value: me,
      unit: '×',
      target: '≥ 0.35',
      met: atLeast(me, 0.35),
      how: 'me 2xx/s ÷ GET /healthz 2xx/s, same connections',
      disturbedBy: by('healthz', 'me'),
    },
  ]
  if (overload) {
    const p99 = overload.admitted.p99
    ratios.push(
      {
        name: 'overload: admitted p99',
        value: p99,
        unit: 'ms',
        target: '≤ 1000 ms',
        met: atMost(p99, 1000),
        how: `open loop at ${overload.offeredRate.toFixed(0)} req/s (3 × login capacity)`,
        disturbedBy: by('overload'),
      },
      {
        name: 'overload: hung past the client timeout',
        value: overload.hung,
        unit: '',
        target: '= 0',
        met: overload.hung === 0,
        how: `requests unanswered after ${overload.timeoutMs} ms`,
        disturbedBy: by('overload'),
      },
    )
  }
  return ratios
}

const fmt = (value: number | null | undefined, digits = 1): string =>
  value == null ? '–' : value.toFixed(digits)

function statusText(counts: Record<string, number>): string {
  const entries = Object.entries(counts).filter(([code]) => !code.startsWith('2'))
  return entries.length === 0 ? '' : ` (${entries.map(([c, n]) => `${c}×${n}`).join(', ')})`
}

function ratioValue(r: Ratio): string {
  if (r.value === null) return '–'
  if (r.unit === '×') return `${r.value.toFixed(2)} ×`
  if (r.unit === 'ms') return `${r.value.toFixed(2)} ms`
  return String(r.value)
}

function verdict(r: Ratio): string {
  const base = r.met === null ? 'n/a' : r.met ? 'met' : 'MISSED'
  return r.disturbedBy.length > 0 ? `${base} (disturbed: ${r.disturbedBy.join(', ')})` : base
}

/** The results as a markdown document (also what the console shows). */
export function toMarkdown(results: Results): string {
  const lines: string[] = []
  lines.push(`# users-auth benchmark (${results.mode} run)`, '')
  lines.push(`Machine: ${machineLine(results.machine)}`, '')
  for (const note of results.notes) lines.push(`- ${note}`)
  lines.push('')
  lines.push('## Throughput and latency', '')
  lines.push(
    '| scenario | conns | req/s | p50 ms | p95 ms | p99 ms | errors | DB users / sessions | other procs, cores |',
  )
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const row of results.rows) {
    const data = row.dataset ? `${row.dataset.users} / ${row.dataset.sessions}` : '–'
    lines.push(
      `| ${row.name} | ${row.connections ?? '–'} | ${fmt(row.perSecond)} | ${fmt(row.latency.p50, 2)} | ${fmt(row.latency.p95, 2)} | ${fmt(row.latency.p99, 2)} | ${row.errors}${statusText(row.statusCounts)} | ${data} | ${fmt(row.otherCores, 2)} |`,
    )
  }
  lines.push('')
  lines.push('## Ratios and targets', '')
  lines.push('| measure | value | target | result | how |')
  lines.push('|---|---:|---|---|---|')
  for (const r of results.ratios) {
    lines.push(`| ${r.name} | ${ratioValue(r)} | ${r.target} | ${verdict(r)} | ${r.how} |`)
  }
  const breakdowns = Object.entries(results.breakdowns).filter(
    (entry): entry is [string, Breakdown] => entry[1] !== null,
  )
  if (breakdowns.length > 0) {
    lines.push('')
    lines.push('## Where the time goes (mean ms per request, from the services’ own metrics)', '')
    lines.push(
      '| scenario | seen by client | outside the services | in users-api alone | in auth-api, beyond argon2 | argon2 jobs |',
    )
    lines.push('|---|---:|---:|---:|---:|---:|')
    const minus = (a: number | null, b: number | null): number | null =>
      a === null || b === null ? null : a - b
    for (const [name, b] of breakdowns) {
      lines.push(
        `| ${name} | ${fmt(b.clientMs, 2)} | ${fmt(minus(b.clientMs, b.usersApiMs), 2)} | ${fmt(minus(b.usersApiMs, b.authApiMs), 2)} | ${fmt(minus(b.authApiMs, b.argon2Ms), 2)} | ${fmt(b.argon2Ms, 2)} |`,
      )
    }
    lines.push(
      '',
      'auth-api time includes waiting for a hash slot; users-api time includes its calls to MongoDB and Redis.',
    )
  }
  const cpuRows = Object.entries(results.scenarios).flatMap(([key, r]) => {
    const usage = results.cpu[key]
    return usage && r.ok > 0 ? [{ key, usage, ok: r.ok }] : []
  })
  if (cpuRows.length > 0) {
    const perRequest = (cpu: ProcessCpu | undefined, ok: number, main: boolean): string =>
      cpu ? ((1000 * (main ? cpu.mainThreadSeconds : cpu.seconds)) / ok).toFixed(2) : '–'
    lines.push('')
    lines.push('## CPU per successful request (ms, from /proc; 10 ms ticks)', '')
    lines.push(
      '| scenario | users-api | users-api main thread | auth-api | auth-api main thread | MongoDB | load generator |',
    )
    lines.push('|---|---:|---:|---:|---:|---:|---:|')
    for (const { key, usage, ok } of cpuRows) {
      const p = usage.byProcess
      lines.push(
        `| ${key} | ${perRequest(p['users-api'], ok, false)} | ${perRequest(p['users-api'], ok, true)} | ${perRequest(p['auth-api'], ok, false)} | ${perRequest(p['auth-api'], ok, true)} | ${perRequest(p.mongo, ok, false)} | ${perRequest(p['load generator'], ok, false)} |`,
      )
    }
    lines.push(
      '',
      'auth-api beyond its main thread is mostly argon2 on the libuv pool; MongoDB counts whatever serves it (mongo-lite runs JavaScript).',
    )
  }
  const o = results.overload
  if (o) {
    const shed = o.statusCounts['503'] ?? 0
    lines.push('')
    lines.push('## Overload (open loop, login)', '')
    lines.push(
      '| offered req/s | sent | admitted (2xx)/s | admitted p50 / p95 / p99 ms | answered 503 | 503 p99 ms | hung past timeout | other answers | other procs, cores |',
    )
    lines.push('|---:|---:|---:|---|---:|---:|---:|---|---:|')
    const other = Object.entries(o.statusCounts)
      .filter(([code]) => !code.startsWith('2') && code !== '503')
      .map(([c, n]) => `${c}×${n}`)
    if (o.failed > 0) other.push(`connection errors×${o.failed}`)
    lines.push(
      `| ${fmt(o.offeredRate)} | ${o.sent} | ${fmt(o.ok / o.elapsedS)} | ${fmt(o.admitted.p50, 0)} / ${fmt(o.admitted.p95, 0)} / ${fmt(o.admitted.p99, 0)} | ${fmt((100 * shed) / Math.max(1, o.sent))} % (${shed}) | ${fmt(o.shed.p99, 0)} | ${o.hung} (timeout ${o.timeoutMs} ms) | ${other.join(', ') || '–'} | ${fmt(results.cpu.overload?.otherCores, 2)} |`,
    )
    const w = results.overloadWork
    if (w) {
      const list = (answers: Record<string, number>): string =>
        Object.entries(answers)
          .filter(([key]) => !/\/(metrics|healthz|readyz)\b/.test(key))
          .sort((a, b) => b[1] - a[1])
          .map(([key, n]) => `${key} × ${n}`)
          .join('; ') || '–'
      lines.push(
        '',
        `During the overload users-api answered: ${list(w.usersApi)}.`,
        `auth-api answered: ${list(w.authApi)}; argon2 jobs finished: ${
          Object.entries(w.argon2Jobs)
            .map(([op, n]) => `${op} × ${n}`)
            .join(', ') || '–'
        }.`,
      )
    }
  }
  lines.push('')
  lines.push('## Settings', '')
  for (const [key, value] of Object.entries(results.settings)) lines.push(`- ${key}: ${value}`)
  lines.push('')
  return lines.join('\n')
}
