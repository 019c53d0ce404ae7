import { availableParallelism, cpus, platform, release, totalmem } from 'node:os'
import type { CeilingResult, Throughput } from './ceiling-child.js'
import type { CpuUsage, ProcessCpu } from './cpu.js'
import type { ClosedLoopResult, OpenLoopResult } from './load.js'
import type { Breakdown } from './metrics.js'
import { paramsText } from './phc.js'
import type { Stack } from './stack.js'

export const describeMachine = () => ({
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  cores: availableParallelism(),
  memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  os: `${platform()} ${release()}`,
  date: new Date().toISOString(),
})
export type Machine = ReturnType<typeof describeMachine>
export const machineLine = (m: Machine): string =>
  `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}, ${m.date}`

/** Closed-loop scenarios, in the order of a full run: the reads first, then the writes. */
export const closedScenarios = [
  'healthz',
  'me',
  'signup',
  'login',
  'login-half',
  'refresh',
] as const
export type ClosedScenario = (typeof closedScenarios)[number]
export const scenarioTitles: Record<ClosedScenario, string> = {
  healthz: 'GET /healthz (framework baseline, users-api)',
  me: 'GET /v1/users/me',
  signup: 'POST /v1/auth/signup',
  login: 'POST /v1/auth/login',
  'login-half': 'POST /v1/auth/login at half load',
  refresh: 'POST /v1/auth/refresh',
}

export interface Ratio {
  name: string
  value: number | null
  /** `≥ 0.85` (a ratio), `≤ 1.5 ms` or `= 0` (a count). */
  target: string
  met: boolean | null
  how: string
  /** Measurements behind this ratio during which other processes were busy. */
  disturbedBy: string[]
}

export interface Results {
  mode: 'full' | 'quick' | 'partial'
  machine: Machine
  notes: string[]
  settings: Record<string, string | number>
  /** The better of the two ceiling passes. */
  ceiling: CeilingResult
  ceilingPasses: { before: CeilingResult; after: CeilingResult }
  scenarios: Partial<Record<ClosedScenario, ClosedLoopResult>>
  overload: OpenLoopResult | null
  /** What each service answered during the overload, and the argon2 jobs auth-api finished. */
  overloadWork: Record<'usersApi' | 'authApi' | 'argon2Jobs', Record<string, number>> | null
  /** Accounts and sessions in MongoDB when each measurement started. */
  datasets: Record<string, { users: number; sessions: number }>
  cpu: Record<string, CpuUsage | null>
  breakdowns: Partial<Record<ClosedScenario, Breakdown | null>>
  ratios: Ratio[]
}

const rate = (r: { ok: number; elapsedS: number } | null | undefined): number | null =>
  r ? r.ok / r.elapsedS : null
const quotient = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null || b == null || b === 0 ? null : a / b

/** CPU milliseconds of one process per successful request of a scenario. */
export function cpuPerRequest(
  r: Pick<Results, 'cpu' | 'scenarios'>,
  scenario: ClosedScenario,
  process: string,
  part: keyof ProcessCpu = 'seconds',
): number | null {
  const cpu = r.cpu[scenario]?.byProcess[process]
  const ok = r.scenarios[scenario]?.ok
  return cpu && ok ? (cpu[part] * 1000) / ok : null
}

/** The targets a full run is held to (it exits 1 when one is missed). */
export function computeRatios(r: Omit<Results, 'ratios'>, disturbed: ReadonlySet<string>): Ratio[] {
  const ratio = (
    name: string,
    value: number | null,
    target: string,
    inputs: string,
    how: string,
  ) => {
    const [op, bound] = [target[0], Number.parseFloat(target.slice(2))]
    const met =
      value === null
        ? null
        : op === '≥'
          ? value >= bound
          : op === '≤'
            ? value <= bound
            : value === bound
    const disturbedBy = inputs.split(' ').filter((input) => disturbed.has(input))
    return { name, value, target, met, how, disturbedBy }
  }
  const s = r.scenarios
  const o = r.overload
  const usersCpu = (scenario: ClosedScenario, target: string): Ratio =>
    ratio(
      `users-api CPU per ${scenarioTitles[scenario].replace(/^\w+ /, '')}`,
      cpuPerRequest(r, scenario, 'users-api'),
      target,
      scenario,
      `/proc, all threads, ÷ 2xx answers`,
    )
  return [
    ratio(
      'login ÷ argon2 verify ceiling (same run)',
      quotient(rate(s.login), r.ceiling.verify.perSecond),
      '≥ 0.85',
      'ceiling login',
      'POST /v1/auth/login 2xx/s ÷ raw verify/s',
    ),
    ratio(
      'signup ÷ argon2 hash ceiling',
      quotient(rate(s.signup), r.ceiling.hash.perSecond),
      '≥ 0.85',
      'ceiling signup',
      'POST /v1/auth/signup 2xx/s ÷ raw hash/s',
    ),
    usersCpu('login', '≤ 1.5 ms'),
    usersCpu('signup', '≤ 1.5 ms'),
    usersCpu('me', '≤ 0.2 ms'),
    usersCpu('refresh', '≤ 0.45 ms'),
    ratio(
      'auth-api main-thread CPU per login',
      cpuPerRequest(r, 'login', 'auth-api', 'mainThreadSeconds'),
      '≤ 0.5 ms',
      'login',
      '/proc, the thread whose tid is the pid, ÷ 2xx logins',
    ),
    ratio(
      '/me ÷ /healthz throughput',
      quotient(rate(s.me), rate(s.healthz)),
      '≥ 0.25',
      'healthz me',
      '2xx/s of each, same connections',
    ),
    ...(o
      ? [
          ratio(
            'overload at 3×: goodput ÷ closed-loop login throughput',
            quotient(rate(o), rate(s.login)),
            '≥ 0.85',
            'login overload',
            `open loop at ${o.offeredRate.toFixed(0)} req/s, 2xx/s ÷ login 2xx/s`,
          ),
          ratio(
            'overload at 3×: admitted p99',
            o.admitted.p99,
            '≤ 1000 ms',
            'overload',
            'latency of the 2xx answers',
          ),
          ratio(
            'overload at 3×: hung past the client timeout',
            o.hung,
            '= 0',
            'overload',
            `requests unanswered after ${o.timeoutMs} ms`,
          ),
        ]
      : []),
  ]
}

export const passText = (r: CeilingResult): string =>
  `hash ${r.hash.perSecond.toFixed(1)}/s, verify ${r.verify.perSecond.toFixed(1)}/s, one verify p50 ${r.singleVerify.latency.p50?.toFixed(2) ?? '–'} ms`

/** The better of two ceiling passes, so that a pass slowed by other work cannot flatter the services. */
export function bestCeiling(a: CeilingResult, b: CeilingResult): CeilingResult {
  const faster = (x: Throughput, y: Throughput) => (y.perSecond > x.perSecond ? y : x)
  const quicker = (x: Throughput, y: Throughput) =>
    (y.latency.p50 ?? Infinity) < (x.latency.p50 ?? Infinity) ? y : x
  return {
    ...a,
    ...{ hash: faster(a.hash, b.hash), verify: faster(a.verify, b.verify) },
    singleVerify: quicker(a.singleVerify, b.singleVerify),
  }
}

/** What shared the machine, how the ceiling was taken, what disturbed the run, how long each part was. */
export function notes(n: {
  stack: Stack
  cores: number
  plan: {
    ceilingS: number
    warmupS: number
    durationS: Record<ClosedScenario, number>
    overloadS: number
  }
  quietCores: number
  disturbed: [string, CpuUsage | null][]
  before: { result: CeilingResult }
  after: { result: CeilingResult }
}): string[] {
  const { stack, plan, before } = n
  const lite = stack.mongoBackend === 'mongo-lite'
  return [
    `The load generator (autocannon for the closed-loop scenarios, undici for the open-loop overload, in the bench's own process) shares the ${n.cores} cores with users-api, auth-api and MongoDB, so every HTTP figure includes its CPU cost.`,
    `MongoDB: ${stack.mongoBackend}${lite ? ' (the workspace’s in-memory wire server, in its own process)' : ''}; Redis: ${stack.redis ? 'yes' : 'no'}. Each service runs in its own process with NODE_ENV=production.`,
    `argon2 parameters read from a hash made by auth-api (${paramsText(stack.argon2)}); the ceiling process has UV_THREADPOOL_SIZE=${before.result.threadPoolSize} and keeps ${before.result.concurrency} jobs in flight, like auth-api.`,
    `Ceiling measured before the scenarios, the stack idle (${passText(before.result)}), and after the stack stopped (${passText(n.after.result)}); the ratios use the better of the two.`,
    n.disturbed.length === 0
      ? `Other processes on the machine used at most ${n.quietCores} cores during every measurement.`
      : `Other processes on the machine used more than ${n.quietCores} cores during: ${n.disturbed.map(([name, u]) => `${name} (${u?.otherCores.toFixed(2) ?? '?'})`).join(', ')}; those figures are not a quiet machine's (less throughput, more latency; a ratio against a disturbed ceiling can come out too high), and the ratios they enter are marked.`,
    `Durations: ceiling ${plan.ceilingS} s per measurement; HTTP scenarios ${plan.warmupS} s warm-up then ${plan.durationS.login} s measured (signup ${plan.durationS.signup} s); overload ${plan.overloadS} s. Latencies in ms of 2xx answers (HdrHistogram, 3 significant digits); errors are non-2xx answers plus socket errors.`,
  ]
}

const fmt = (value: number | null | undefined, digits = 1): string =>
  value == null ? '–' : value.toFixed(digits)
const table = (header: string, align: string, rows: string[]): string[] => [
  `| ${header} |`,
  `|${align}|`,
  ...rows.map((row) => `| ${row} |`),
  '',
]
const others = (counts: Record<string, number>, shown: RegExp): string[] =>
  Object.entries(counts).flatMap(([code, n]) => (shown.test(code) ? [`${code}×${n}`] : []))

function throughputRows(r: Results): string[] {
  const c = r.ceiling
  const row = (name: string, conns: number, perS: number, l: Throughput['latency']) =>
    `${name} | ${conns} | ${fmt(perS)} | ${fmt(l.p50, 2)} | ${fmt(l.p95, 2)} | ${fmt(l.p99, 2)}`
  const ceiling = (name: string, t: Throughput, conns: number): string =>
    `${row(name, conns, t.perSecond, t.latency)} | 0 | – | ${fmt(r.cpu['ceiling before']?.otherCores, 2)}`
  return [
    ceiling(`argon2id hash ceiling (no HTTP, ${c.concurrency} in flight)`, c.hash, c.concurrency),
    ceiling(
      `argon2id verify ceiling (no HTTP, ${c.concurrency} in flight)`,
      c.verify,
      c.concurrency,
    ),
    ceiling('argon2id verify, one at a time (no HTTP)', c.singleVerify, 1),
    ...closedScenarios.flatMap((key) => {
      const s = r.scenarios[key]
      const data = r.datasets[key]
      if (!s) return []
      const failures = others(s.statusCounts, /^[^2]/)
      const errors = `${s.responses - s.ok + s.socketErrors}${failures.length > 0 ? ` (${failures.join(', ')})` : ''}`
      return [
        `${row(scenarioTitles[key], s.connections, s.ok / s.elapsedS, s.latency)} | ${errors} | ${data ? `${data.users} / ${data.sessions}` : '–'} | ${fmt(r.cpu[key]?.otherCores, 2)}`,
      ]
    }),
  ]
}

/** The results as markdown (also what the console shows). */
export function toMarkdown(r: Results): string {
  const out = [`# users-auth benchmark (${r.mode} run)`, '', `Machine: ${machineLine(r.machine)}`]
  out.push('', ...r.notes.map((note) => `- ${note}`), '', '## Throughput and latency', '')
  out.push(
    ...table(
      'scenario | conns | req/s | p50 ms | p95 ms | p99 ms | errors | DB users / sessions | other procs, cores',
      '---|---:|---:|---:|---:|---:|---:|---:|---:',
      throughputRows(r),
    ),
  )
  const verdict = (t: Ratio): string =>
    `${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}${t.disturbedBy.length > 0 ? ` (disturbed: ${t.disturbedBy.join(', ')})` : ''}`
  const value = (t: Ratio): string =>
    t.value === null
      ? '–'
      : t.target.startsWith('=')
        ? String(t.value)
        : `${t.value.toFixed(2)} ${t.target.endsWith('ms') ? 'ms' : '×'}`
  out.push('## Ratios and targets', '')
  out.push(
    ...table(
      'measure | value | target | result | how',
      '---|---:|---|---|---',
      r.ratios.map((t) => `${t.name} | ${value(t)} | ${t.target} | ${verdict(t)} | ${t.how}`),
    ),
  )
  const minus = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : a - b
  const splits = closedScenarios.flatMap((key) => {
    const b = r.breakdowns[key]
    return b
      ? [
          `${scenarioTitles[key]} | ${fmt(b.clientMs, 2)} | ${fmt(minus(b.clientMs, b.usersApiMs), 2)} | ${fmt(minus(b.usersApiMs, b.authApiMs), 2)} | ${fmt(minus(b.authApiMs, b.argon2Ms), 2)} | ${fmt(b.argon2Ms, 2)}`,
        ]
      : []
  })
  if (splits.length > 0) {
    out.push('## Where the time goes (mean ms per request, from the services’ own metrics)', '')
    out.push(
      ...table(
        'scenario | seen by client | outside the services | in users-api alone | in auth-api, beyond argon2 | argon2 jobs',
        '---|---:|---:|---:|---:|---:',
        splits,
      ),
      'auth-api time includes waiting for a hash slot; users-api time includes its calls to MongoDB and Redis.',
      '',
    )
  }
  const measured = closedScenarios.filter((key) => r.cpu[key] && r.scenarios[key]?.ok)
  const cell = (key: ClosedScenario, name: string, part?: keyof ProcessCpu): string =>
    fmt(cpuPerRequest(r, key, name, part), 2)
  if (measured.length > 0) {
    out.push('## CPU per successful request (ms, from /proc; 10 ms ticks)', '')
    out.push(
      ...table(
        'scenario | users-api | users-api main thread | auth-api | auth-api main thread | MongoDB | load generator',
        '---|---:|---:|---:|---:|---:|---:',
        measured.map(
          (k) =>
            `${k} | ${cell(k, 'users-api')} | ${cell(k, 'users-api', 'mainThreadSeconds')} | ${cell(k, 'auth-api')} | ${cell(k, 'auth-api', 'mainThreadSeconds')} | ${cell(k, 'mongo')} | ${cell(k, 'load generator')}`,
        ),
      ),
      'auth-api beyond its main thread is mostly argon2 on the libuv pool; MongoDB counts whatever serves it (mongo-lite runs JavaScript).',
      '',
    )
  }
  const o = r.overload
  if (o) {
    const shed = o.statusCounts['503'] ?? 0
    const other = others(o.statusCounts, /^(?!2|503)/)
    if (o.failed > 0) other.push(`connection errors×${o.failed}`)
    out.push('## Overload (open loop, login)', '')
    out.push(
      ...table(
        'offered req/s | sent | admitted (2xx)/s | admitted p50 / p95 / p99 ms | answered 503 | 503 p99 ms | hung past timeout | other answers | other procs, cores',
        '---:|---:|---:|---|---:|---:|---:|---|---:',
        [
          `${fmt(o.offeredRate)} | ${o.sent} | ${fmt(rate(o))} | ${fmt(o.admitted.p50, 0)} / ${fmt(o.admitted.p95, 0)} / ${fmt(o.admitted.p99, 0)} | ${fmt((100 * shed) / Math.max(1, o.sent))} % (${shed}) | ${fmt(o.shed.p99, 0)} | ${o.hung} (timeout ${o.timeoutMs} ms) | ${other.join(', ') || '–'} | ${fmt(r.cpu.overload?.otherCores, 2)}`,
        ],
      ),
    )
    const list = (counts: Record<string, number>): string =>
      Object.entries(counts)
        .filter(([key]) => !/\/(metrics|healthz|readyz)\b/.test(key))
        .sort((a, b) => b[1] - a[1])
        .map(([key, n]) => `${key} × ${n}`)
        .join('; ') || '–'
    const w = r.overloadWork
    if (w) {
      out.push(`During the overload users-api answered: ${list(w.usersApi)}.`)
      out.push(`auth-api answered: ${list(w.authApi)}; argon2 jobs: ${list(w.argon2Jobs)}.`, '')
    }
  }
  out.push('## Settings', '', ...Object.entries(r.settings).map(([k, v]) => `- ${k}: ${v}`), '')
  return out.join('\n')
}
