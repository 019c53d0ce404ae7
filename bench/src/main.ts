import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { measureCeiling } from './ceiling.js'
import type { CeilingResult } from './ceiling-protocol.js'
import { childNames, repoRoot, stopAll } from './children.js'
import { snapshot, usageBetween, type CpuUsage } from './cpu-monitor.js'
import { LoadGenerator } from './load.js'
import type { ClosedLoopResult, OpenLoopResult, Target } from './load-protocol.js'
import { describeMachine, machineLine } from './machine.js'
import {
  answersBetween,
  breakdown,
  jobsBetween,
  scrape,
  type Breakdown,
  type ServiceScrapes,
} from './metrics.js'
import { profileMarkdown, summarizeProfile } from './profile-summary.js'
import {
  type Attempt,
  type Dataset,
  type OverloadWork,
  ceilingRows,
  closedRow,
  computeRatios,
  toMarkdown,
  type Results,
  type ScenarioRow,
} from './report.js'
import { hashingSettings, serviceHashParams, startStack, type HashingSettings } from './stack.js'

const usage = `Usage: pnpm bench [--quick] [--only <scenarios>] [--profile <scenario>]

  (no flag)            full run (about 3 minutes): ceiling, every scenario, overload;
                       writes bench/results/latest.{json,md}; exits 1 if a target is missed
  --quick              smoke run (seconds per scenario, no targets); writes bench/results/quick.*
  --only <a,b,…>       full durations, but only the ceiling and the listed scenarios (plus
                       login when overload is listed); writes bench/results/partial.* (ignored)
  --profile <scenario> runs one scenario with node --cpu-prof on every process and prints where
                       the CPU time went during it; scenarios: healthz, signup, login, login-half, refresh, me, overload

Service settings such as ARGON2_MEMORY_KIB, HASH_THREADS, HASH_QUEUE_LIMIT or
AUTH_API_DEADLINE_MS in the environment are passed on to the services (and to the ceiling).
BENCH_REDIS=off keeps users-api on in-process counters even when a Redis answers.
`

const scenarioNames = [
  'healthz',
  'signup',
  'login',
  'login-half',
  'refresh',
  'me',
  'overload',
] as const
type ScenarioName = (typeof scenarioNames)[number]

interface Plan {
  mode: 'full' | 'quick'
  ceilingS: number
  singleVerifyS: number
  warmupS: number
  durationS: Record<Exclude<ScenarioName, 'overload'>, number>
  overloadS: number
  /** Offered load in the overload scenario, as a multiple of measured login capacity. */
  overloadFactor: number
  clientTimeoutMs: number
  pauseMs: number
  /** Measurements disturbed by other processes beyond this many cores are measured again… */
  quietCores: number
  /** …while this many seconds of extra measuring remain in the run. */
  retryBudgetS: number
}

function planFor(mode: 'full' | 'quick'): Plan {
  if (mode === 'quick') {
    return {
      mode,
      ceilingS: 1,
      singleVerifyS: 0.5,
      warmupS: 0.5,
      durationS: {
        healthz: 1,
        signup: 2,
        login: 1,
        'login-half': 1,
        refresh: 1,
        me: 1,
      },
      overloadS: 2,
      overloadFactor: 3,
      clientTimeoutMs: 5000,
      pauseMs: 200,
      quietCores: 0.25,
      retryBudgetS: 0,
    }
  }
  return {
    mode,
    ceilingS: 8,
    singleVerifyS: 4,
    warmupS: 3,
    durationS: {
      healthz: 10,
      signup: 15,
      login: 10,
      'login-half': 10,
      refresh: 10,
      me: 10,
    },
    overloadS: 15,
    overloadFactor: 3,
    clientTimeoutMs: 5000,
    pauseMs: 1000,
    quietCores: 0.25,
    retryBudgetS: 70,
  }
}

/** Connections per scenario: enough to keep the hash pool busy, or the event loop for the rest. */
function connectionsFor(name: Exclude<ScenarioName, 'overload'>, h: HashingSettings): number {
  switch (name) {
    case 'signup':
    case 'login':
      return h.concurrency * 4
    case 'login-half':
      // About half the hash slots busy: the latency of one login with nothing queued.
      return Math.max(1, Math.round(h.concurrency / 2))
    case 'refresh':
    case 'healthz':
    case 'me':
      return 32
  }
}

/** The order of a full run: reads on a fixed-size database first, then the writes that grow it. */
const measuredOrder = ['healthz', 'me', 'signup', 'login', 'login-half', 'refresh'] as const

const scenarioTitles: Record<Exclude<ScenarioName, 'overload'>, string> = {
  healthz: 'GET /healthz (framework baseline, users-api)',
  signup: 'POST /v1/auth/signup',
  login: 'POST /v1/auth/login',
  'login-half': 'POST /v1/auth/login at half load',
  refresh: 'POST /v1/auth/refresh',
  me: 'GET /v1/users/me',
}

/** The users-api route each scenario measures, as its metrics label it. */
const routeOf: Record<Exclude<ScenarioName, 'overload'>, string | null> = {
  healthz: null,
  signup: '/v1/auth/signup',
  login: '/v1/auth/login',
  'login-half': '/v1/auth/login',
  refresh: '/v1/auth/refresh',
  me: '/v1/users/me',
}

const targetOf: Record<Exclude<ScenarioName, 'overload'>, Target> = {
  healthz: 'healthz',
  signup: 'signup',
  login: 'login',
  'login-half': 'login',
  refresh: 'refresh',
  me: 'me',
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

interface Session {
  plan: Plan
  hashing: HashingSettings
  load: LoadGenerator
  usersUrl: string
  scenarios: Record<string, ClosedLoopResult>
  /** Monotonic-clock window of each measurement, for reading profiles. */
  windows: Record<string, { fromUs: number; toUs: number }>
  /** CPU used by the bench's processes and by everything else during each measurement. */
  cpu: Record<string, CpuUsage | null>
  /** Where the time of each scenario's requests went, from the services' own metrics. */
  breakdowns: Record<string, Breakdown | null>
  /** What each service answered during the overload, and argon2 jobs auth-api finished. */
  overloadWork?: OverloadWork
  /** Accounts and sessions in MongoDB when each measurement started. */
  datasets: Record<string, Dataset>
  /** Every attempt at each measurement, and which was kept. */
  attempts: Record<string, Attempt[]>
  /** Seconds left for measuring again when other processes disturbed a measurement. */
  retryBudgetS: number
  scrape: () => Promise<ServiceScrapes>
}

function cpuText(usage: CpuUsage | null | undefined): string {
  if (!usage) return ''
  const busiest = usage.busiestOthers[0]
  const named = busiest ? ` (busiest: ${busiest.name}, ${busiest.cores.toFixed(2)})` : ''
  return `; CPU: bench ${usage.benchCores.toFixed(2)} cores, other processes ${usage.otherCores.toFixed(2)}${named}`
}

/**
 * Runs a measurement, and again (at most while the run's retry budget lasts) when other
 * processes on the machine used more than `quietCores` during it: the attempt with the least
 * outside CPU is kept, and every attempt is recorded.
 */
async function quietly<T>(
  s: Session,
  name: string,
  durationS: number,
  measure: () => Promise<{ value: T; usage: CpuUsage | null }>,
): Promise<{ value: T; usage: CpuUsage | null }> {
  let best: { value: T; usage: CpuUsage | null } | undefined
  const attempts: Attempt[] = []
  for (let attempt = 1; attempt <= 3; attempt++) {
    const outcome = await measure()
    const other = outcome.usage?.otherCores ?? 0
    attempts.push({ otherCores: outcome.usage?.otherCores ?? null, kept: false })
    if (!best || other < (best.usage?.otherCores ?? 0)) best = outcome
    const cost = durationS + s.plan.warmupS + s.plan.pauseMs / 1000
    if (other <= s.plan.quietCores || s.retryBudgetS < cost) break
    s.retryBudgetS -= cost
    say(`  other processes used ${other.toFixed(2)} cores during it: measuring again`)
  }
  const keptAt = attempts.findIndex((a) => a.otherCores === (best?.usage?.otherCores ?? null))
  if (keptAt >= 0 && attempts[keptAt]) attempts[keptAt].kept = true
  s.attempts[name] = attempts
  if (!best) throw new Error(`${name}: no measurement`)
  return best
}

async function runClosed(s: Session, name: Exclude<ScenarioName, 'overload'>): Promise<void> {
  const spec = {
    target: targetOf[name],
    baseUrl: s.usersUrl,
    connections: connectionsFor(name, s.hashing),
    timeoutS: 10,
  }
  const durationS = s.plan.durationS[name]
  say(`- ${scenarioTitles[name]}: ${spec.connections} connections, warm-up ${s.plan.warmupS} s`)
  const { value } = await quietly(s, name, durationS, async () => {
    await s.load.closed({ ...spec, durationS: s.plan.warmupS })
    await sleep(s.plan.pauseMs)
    const stored = await s.load.store()
    const dataset = { users: stored.accounts, sessions: stored.sessionsCreated }
    const scrapedBefore = await s.scrape()
    const before = await snapshot(childNames())
    const fromUs = nowUs()
    const result = await s.load.closed({ ...spec, durationS })
    const window = { fromUs, toUs: nowUs() }
    const usage = await usageBetween(before, await snapshot(childNames()))
    const route = routeOf[name]
    const split = route
      ? breakdown(scrapedBefore, await s.scrape(), route, result.latency.mean)
      : null
    const row = closedRow(scenarioTitles[name], result)
    say(
      `  ${row.perSecond.toFixed(1)} req/s, p50 ${row.latency.p50?.toFixed(2) ?? '–'} ms, p99 ${row.latency.p99?.toFixed(2) ?? '–'} ms, errors ${row.errors}${cpuText(usage)}`,
    )
    await sleep(s.plan.pauseMs)
    return { value: { result, window, split, dataset }, usage }
  }).then((kept) => {
    s.cpu[name] = kept.usage
    return kept
  })
  s.scenarios[name] = value.result
  s.windows[name] = value.window
  s.breakdowns[name] = value.split
  s.datasets[name] = value.dataset
}

async function runOverload(s: Session): Promise<OpenLoopResult> {
  const login = s.scenarios.login
  const capacity = login ? login.ok / login.elapsedS : 0
  if (capacity <= 0) throw new Error('overload needs the measured login capacity')
  const rate = Math.max(1, capacity * s.plan.overloadFactor)
  say(
    `- overload: open loop at ${rate.toFixed(0)} login/s (${s.plan.overloadFactor} × ${capacity.toFixed(1)}) for ${s.plan.overloadS} s, client timeout ${s.plan.clientTimeoutMs} ms`,
  )
  const { value, usage } = await quietly(s, 'overload', s.plan.overloadS, async () => {
    const stored = await s.load.store()
    s.datasets.overload = { users: stored.accounts, sessions: stored.sessionsCreated }
    const scrapedBefore = await s.scrape()
    const before = await snapshot(childNames())
    const fromUs = nowUs()
    const result = await s.load.open({
      target: 'login',
      baseUrl: s.usersUrl,
      rate,
      durationS: s.plan.overloadS,
      timeoutMs: s.plan.clientTimeoutMs,
      maxConnections: 512,
    })
    const window = { fromUs, toUs: nowUs() }
    const cpu = await usageBetween(before, await snapshot(childNames()))
    const scrapedAfter = await s.scrape()
    const work: OverloadWork = {
      usersApi: answersBetween(scrapedBefore.users, scrapedAfter.users),
      authApi: answersBetween(scrapedBefore.auth, scrapedAfter.auth),
      argon2Jobs: jobsBetween(scrapedBefore.auth, scrapedAfter.auth),
    }
    say(
      `  admitted ${(result.ok / result.elapsedS).toFixed(1)}/s, p99 ${result.admitted.p99?.toFixed(0) ?? '–'} ms, 503 ${result.statusCounts['503'] ?? 0} of ${result.sent}, hung ${result.hung}${cpuText(cpu)}`,
    )
    // Let the queues drain before anything else is measured.
    await sleep(s.plan.pauseMs * 2)
    return { value: { result, window, work }, usage: cpu }
  })
  s.cpu.overload = usage
  s.windows.overload = value.window
  s.overloadWork = value.work
  return value.result
}

/**
 * Enough accounts for login, and enough live sessions for refresh: each refresh run can strand
 * one session per connection (the answer to its last request is never read), so a margin of
 * four runs' worth.
 */
async function ensureAccounts(s: Session, accounts: number): Promise<void> {
  const have = await s.load.store()
  const sessions = connectionsFor('refresh', s.hashing) * 4
  const more = Math.max(accounts - have.accounts, sessions - have.refreshTokens, 0)
  if (more === 0) return
  say(`- seeding ${more} accounts (have ${have.accounts} accounts, ${have.refreshTokens} sessions)`)
  await s.load.seed({
    baseUrl: s.usersUrl,
    accounts: more,
    concurrency: s.hashing.concurrency * 2,
    timeLimitS: 120,
  })
}

async function ceilingPass(
  plan: Plan,
  hashing: HashingSettings,
  scale: number,
  label: string,
): Promise<{ result: CeilingResult; cpu: CpuUsage | null }> {
  const durationS = plan.ceilingS * scale
  say(`- argon2 ceiling, ${label}: ${durationS} s hash, ${durationS} s verify, no HTTP`)
  const pass = await measureCeiling(
    {
      argon2: hashing.argon2,
      concurrency: hashing.concurrency,
      durationS,
      singleS: plan.singleVerifyS * scale,
    },
    hashing.threads,
  )
  const r = pass.result
  say(
    `  hash ${r.hash.perSecond.toFixed(1)}/s, verify ${r.verify.perSecond.toFixed(1)}/s, one verify p50 ${r.singleVerify.latency.p50?.toFixed(2) ?? '–'} ms${cpuText(pass.cpu)}`,
  )
  return pass
}

/**
 * The ceiling the ratios are taken against: the better of the two passes (before the stack
 * started and after it stopped), so a pass slowed by other work on the machine cannot flatter
 * the services.
 */
function bestCeiling(a: CeilingResult, b: CeilingResult | undefined): CeilingResult {
  if (!b) return a
  const faster = (x: CeilingResult['hash'], y: CeilingResult['hash']) =>
    y.perSecond > x.perSecond ? y : x
  const quicker = (x: CeilingResult['hash'], y: CeilingResult['hash']) =>
    (y.latency.p50 ?? Infinity) < (x.latency.p50 ?? Infinity) ? y : x
  return {
    ...a,
    hash: faster(a.hash, b.hash),
    verify: faster(a.verify, b.verify),
    singleVerify: quicker(a.singleVerify, b.singleVerify),
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  })
  if (values.help) {
    process.stdout.write(usage)
    return
  }
  const profile = values.profile as ScenarioName | undefined
  if (profile !== undefined && !scenarioNames.includes(profile)) {
    throw new Error(`--profile: unknown scenario ${profile}\n${usage}`)
  }
  const only = values.only?.split(',').map((name) => name.trim()) as ScenarioName[] | undefined
  const unknown = only?.filter((name) => !scenarioNames.includes(name)) ?? []
  if (only?.length === 0 || unknown.length > 0) {
    throw new Error(`--only: unknown scenario ${unknown.join(', ')}\n${usage}`)
  }
  const wanted = (name: ScenarioName): boolean =>
    !only || only.includes(name) || (name === 'login' && only.includes('overload'))
  const plan = planFor(values.quick ? 'quick' : 'full')
  const seedAccounts = plan.mode === 'quick' ? 64 : 200
  const machine = describeMachine()
  const hashing = hashingSettings(machine.cores)
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const password = randomBytes(18).toString('base64url')
  const resultsDir = join(repoRoot, 'bench/results')
  const profileDir = join(resultsDir, 'profiles')
  const started = Date.now()

  const runName = profile ? `profile ${profile}` : only ? `only ${only.join(',')}` : plan.mode
  say(`bench (${runName}): ${machineLine(machine)}`)
  say(
    `argon2id m=${hashing.argon2.memoryCost},t=${hashing.argon2.timeCost},p=${hashing.argon2.parallelism}; hash threads ${hashing.threads}, hash concurrency ${hashing.concurrency}`,
  )
  say(
    `The load generator runs on this machine too: it shares the ${machine.cores} cores with both services and MongoDB.`,
  )

  const before = profile ? undefined : await ceilingPass(plan, hashing, 1, 'before the stack')

  if (profile) {
    await rm(profileDir, { recursive: true, force: true })
    await mkdir(profileDir, { recursive: true })
  }
  // One directory per process: tsx's module hooks run on a worker thread of their own, which
  // writes a profile too; the main thread's is the one with thread id 0 in its name.
  const cpuProf = (name: string): string[] =>
    profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []
  say('- starting MongoDB, auth-api and users-api')
  const stack = await startStack({
    hashing,
    runId,
    nodeFlags: (name) => cpuProf(name),
    startTimeoutMs: 60_000,
  })
  const load = LoadGenerator.start(cpuProf('load-generator'))
  say(
    `  MongoDB: ${stack.mongoBackend}; Redis: ${stack.redis ? 'yes (rate-limit counters)' : 'no (in-process counters)'}`,
  )
  const session: Session = {
    plan,
    hashing,
    load,
    usersUrl: stack.usersUrl,
    scenarios: {},
    windows: {},
    cpu: {},
    breakdowns: {},
    attempts: {},
    datasets: {},
    retryBudgetS: profile ? 0 : plan.retryBudgetS,
    scrape: async () => ({
      users: await scrape(`${stack.usersUrl}/metrics`),
      auth: await scrape(`${stack.authUrl}/metrics`, stack.credential),
    }),
  }
  let overload: OpenLoopResult | null = null
  try {
    const serviceParams = await serviceHashParams(stack)
    if (before && serviceParams !== before.result.phcParams) {
      throw new Error(
        `auth-api hashes with ${serviceParams}, the ceiling with ${before.result.phcParams}: not comparable`,
      )
    }
    await load.prepare({ runId, password })
    if (profile) {
      if (profile !== 'signup' && profile !== 'healthz') await ensureAccounts(session, seedAccounts)
      if (profile === 'overload') {
        await runClosed(session, 'login')
        overload = await runOverload(session)
      } else {
        await runClosed(session, profile)
      }
    } else {
      // The reads first, on a database of a fixed size (mongo-lite scans whole collections, so
      // its cost grows with them); then the writes, which grow it.
      if (wanted('me')) await ensureAccounts(session, seedAccounts)
      for (const name of measuredOrder) {
        if (!wanted(name)) continue
        if (name !== 'signup' && name !== 'healthz') await ensureAccounts(session, seedAccounts)
        await runClosed(session, name)
      }
      if (wanted('overload')) overload = await runOverload(session)
    }
  } finally {
    say('- stopping')
    await load.stop()
    await stack.stop()
    await stopAll(5000)
  }

  if (profile) {
    await reportProfiles(profile, profileDir, session.windows[profile], machineLine(machine))
    return
  }
  if (!before) throw new Error('no ceiling measured')
  const afterPass = await quietly(session, 'ceiling after', plan.ceilingS, async () => {
    const pass = await ceilingPass(plan, hashing, 0.5, 'after the stack')
    return { value: pass.result, usage: pass.cpu }
  })
  const after = { result: afterPass.value, cpu: afterPass.usage }
  const ceiling = bestCeiling(before.result, after.result)

  const rows: ScenarioRow[] = ceilingRows(ceiling).map((row) => ({
    ...row,
    otherCores: before.cpu?.otherCores ?? null,
  }))
  for (const name of measuredOrder) {
    const result = session.scenarios[name]
    if (result) {
      rows.push({
        ...closedRow(scenarioTitles[name], result),
        otherCores: session.cpu[name]?.otherCores ?? null,
        dataset: session.datasets[name] ?? null,
      })
    }
  }
  // The ceiling is the better of two passes: disturbed only when both were.
  const isBusy = (u: CpuUsage | null | undefined): boolean => (u?.otherCores ?? 0) > plan.quietCores
  const disturbedSet = new Set([
    ...Object.entries(session.cpu)
      .filter(([, u]) => isBusy(u))
      .map(([name]) => name),
    ...(isBusy(before.cpu) && isBusy(after.cpu) ? ['ceiling'] : []),
  ])
  const disturbed = Object.entries({
    'ceiling before': before.cpu,
    'ceiling after': after.cpu,
    ...session.cpu,
  }).filter(([, usage]) => isBusy(usage))
  const pass = (r: CeilingResult): string =>
    `hash ${r.hash.perSecond.toFixed(1)}/s, verify ${r.verify.perSecond.toFixed(1)}/s, one verify p50 ${r.singleVerify.latency.p50?.toFixed(2) ?? '–'} ms`
  const results: Results = {
    mode: only ? 'partial' : plan.mode,
    machine,
    notes: [
      `The load generator (autocannon for the closed-loop scenarios, undici for the open-loop overload, in a child process) shares the ${machine.cores} cores with users-api, auth-api and MongoDB, so every HTTP figure includes its CPU cost.`,
      `MongoDB: ${stack.mongoBackend}${stack.mongoBackend === 'mongo-lite' ? ' (the workspace’s in-memory wire server, in its own process)' : ''}; Redis: ${stack.redis ? 'yes' : 'no'}. Each service runs in its own process with NODE_ENV=production.`,
      `argon2 parameters confirmed from a hash made by auth-api (${before.result.phcParams}); the ceiling process has UV_THREADPOOL_SIZE=${before.result.threadPoolSize} and keeps ${before.result.concurrency} jobs in flight, like auth-api.`,
      `Ceiling measured before the stack started (${pass(before.result)}) and after it stopped (${pass(after.result)}); the ratios use the better of the two.`,
      disturbed.length === 0
        ? `Other processes on the machine used at most ${plan.quietCores} cores during every measurement.`
        : `Other processes on the machine used more than ${plan.quietCores} cores during: ${disturbed.map(([name, u]) => `${name} (${u?.otherCores.toFixed(2) ?? '?'})`).join(', ')}; those figures are not a quiet machine's (less throughput, more latency; a ratio against a disturbed ceiling can come out too high), and the ratios they enter are marked.`,
      ...(() => {
        const repeated = Object.entries(session.attempts).filter(([, a]) => a.length > 1)
        return repeated.length === 0
          ? []
          : [
              `Measured again because other processes were busy (the quietest attempt is kept): ${repeated.map(([name, a]) => `${name} (other processes ${a.map((t) => t.otherCores?.toFixed(2) ?? '?').join(' / ')} cores)`).join(', ')}.`,
            ]
      })(),
      `Durations: ceiling ${plan.ceilingS} s per measurement; HTTP scenarios ${plan.warmupS} s warm-up then ${plan.durationS.login} s measured (signup ${plan.durationS.signup} s); overload ${plan.overloadS} s. Latencies in ms, of 2xx answers; errors are non-2xx answers plus socket errors.`,
    ],
    settings: {
      ...stack.settings,
      INTERNAL_API_TOKEN: '(random, 43 characters)',
      JWT_PRIVATE_KEYS: '(fresh Ed25519 key)',
      overloadFactor: plan.overloadFactor,
      clientTimeoutMs: plan.clientTimeoutMs,
      totalSeconds: Math.round((Date.now() - started) / 1000),
    },
    ceiling,
    ceilingPasses: { before: before.result, after: after.result },
    scenarios: session.scenarios,
    overload,
    // Which other processes were busy is for the console only: results name no one else's.
    cpu: Object.fromEntries(
      Object.entries({
        'ceiling before': before.cpu,
        'ceiling after': after.cpu,
        ...session.cpu,
      }).map(([name, usage]) => [name, usage ? { ...usage, busiestOthers: [] } : null]),
    ),
    overloadWork: session.overloadWork ?? null,
    attempts: session.attempts,
    datasets: session.datasets,
    breakdowns: Object.fromEntries(
      Object.entries(session.breakdowns).map(([name, b]) => [
        scenarioTitles[name as keyof typeof scenarioTitles],
        b,
      ]),
    ),
    rows,
    ratios: computeRatios(ceiling, session.scenarios, overload, disturbedSet),
  }
  const markdown = toMarkdown(results)
  const base = join(resultsDir, only ? 'partial' : plan.mode === 'quick' ? 'quick' : 'latest')
  await mkdir(resultsDir, { recursive: true })
  await writeFile(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(`${base}.md`, markdown)
  say('')
  say(markdown)
  say(`Results written to ${base}.json and ${base}.md (${results.settings.totalSeconds} s)`)
  const missed = results.ratios.filter((r) => r.met === false)
  if (plan.mode === 'full' && !only && missed.length > 0) {
    say(`Targets missed: ${missed.map((r) => r.name).join('; ')}`)
    process.exitCode = 1
  }
}

async function reportProfiles(
  scenario: ScenarioName,
  profileDir: string,
  window: { fromUs: number; toUs: number } | undefined,
  machine: string,
): Promise<void> {
  const files: { name: string; path: string }[] = []
  for (const dir of await readdir(profileDir, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue
    const main = (await readdir(join(profileDir, dir.name))).find((f) =>
      /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f),
    )
    if (main) files.push({ name: dir.name, path: join(profileDir, dir.name, main) })
  }
  const parts = [
    `# CPU profile of \`${scenario}\``,
    '',
    `Machine: ${machine}`,
    '',
    'Samples taken during the measured window only (start-up, seeding and warm-up left out).',
    '',
  ]
  for (const file of files.sort((a, b) => a.name.localeCompare(b.name))) {
    parts.push(profileMarkdown(file.name, await summarizeProfile(file.path, repoRoot, window)))
  }
  const text = parts.join('\n')
  await writeFile(join(profileDir, `summary-${scenario}.md`), text)
  say('')
  say(text)
  say(`Profiles and summary in ${profileDir}`)
}

main().catch(async (error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  await stopAll(3000)
  process.exit(1)
})
