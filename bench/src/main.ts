import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type { CeilingResult, CeilingSpec } from './ceiling-child.js'
import { snapshot, usageBetween, type CpuUsage } from './cpu.js'
import { closedLoop, openLoop } from './load.js'
import { breakdown, scrape } from './metrics.js'
import { paramsText } from './phc.js'
import { profileMarkdown, summarizeProfile } from './profile-summary.js'
import { baseEnv, childNames, repoRoot, startNode, stopAll } from './processes.js'
import * as report from './report.js'
import type { ClosedScenario, Results } from './report.js'
import { startStack, type Stack } from './stack.js'
import { Traffic } from './traffic.js'

const usage = `Usage: pnpm bench [--quick] [--only <scenarios>] [--profile <scenario>]

  (no flag)            full run (about 4 minutes): ceiling, every scenario, overload;
                       writes bench/results/latest.{json,md}; exits 1 if a target is missed
  --quick              smoke run (seconds per scenario, no targets); writes bench/results/quick.*
  --only <a,b,…>       full durations, but only the ceiling and the listed scenarios (plus
                       login when overload is listed); writes bench/results/partial.*
  --profile <scenario> one scenario with node --cpu-prof on the services and MongoDB; prints
                       where their CPU time went during it (bench/results/profiles/)

Scenarios: ${report.closedScenarios.join(', ')}, overload. Service settings (ARGON2_*, HASH_*,
AUTH_API_*, ACCESS_TOKEN_TTL, MONGODB_TIMEOUT_MS) in the environment are passed on to the
services; BENCH_REDIS=off keeps users-api on in-process counters even when a Redis answers;
BENCH_NODE_FLAGS adds node flags to MongoDB and both services (--perf-basic-prof for perf).
`

type Scenario = ClosedScenario | 'overload'
const durations = (s: number, signup: number): Record<ClosedScenario, number> => ({
  healthz: s,
  me: s,
  login: s,
  'login-half': s,
  refresh: s,
  signup,
})
// Warm-up: `warmupS` seconds and at least `warmupRequests` answers. The password routes
// answer about a hundred a second, so three seconds left V8 still compiling their code on its
// background threads during the measurement: a start-up cost, not a request's.
const plans = {
  quick: {
    ceilingS: 1,
    warmupS: 0.5,
    warmupRequests: 0,
    durationS: durations(1, 2),
    overloadS: 2,
    pauseMs: 200,
  },
  full: {
    ceilingS: 8,
    warmupS: 3,
    warmupRequests: 2000,
    durationS: durations(10, 15),
    overloadS: 15,
    pauseMs: 1000,
  },
}
const overloadFactor = 3
const clientTimeoutMs = 5000
/** Measurements during which other processes used more than this are marked as disturbed. */
const quietCores = 0.25

const say = (line: string): void => void process.stdout.write(`${line}\n`)
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)
const cpuText = (u: CpuUsage | null): string =>
  u ? `; CPU: bench ${u.benchCores.toFixed(2)} cores, others ${u.otherCores.toFixed(2)}` : ''
/** The bench's processes by pid; the load generator is the bench's own. */
const processNames = (): Map<number, string> =>
  new Map([[process.pid, 'load generator'], ...childNames()])

interface Run {
  plan: (typeof plans)['full']
  stack: Stack
  traffic: Traffic
  connections: (name: ClosedScenario) => number
  /** What the report is made of, filled in as measurements finish. */
  results: Pick<Results, 'scenarios' | 'cpu' | 'breakdowns' | 'datasets'>
  /** Monotonic-clock window of each measurement, for reading profiles. */
  windows: Record<string, { fromUs: number; toUs: number }>
}

/** The services' counters, CPU and the monotonic window around one measurement. */
async function observe<R>(run: Run, name: Scenario, measure: () => Promise<R>) {
  const scrapeBoth = async () => ({
    users: await scrape(`${run.stack.usersUrl}/metrics`),
    auth: await scrape(`${run.stack.authUrl}/metrics`, run.stack.credential),
  })
  const { accounts, sessionsCreated } = run.traffic
  run.results.datasets[name] = { users: accounts.length, sessions: sessionsCreated }
  const [before, cpuBefore, fromUs] = [await scrapeBoth(), await snapshot(processNames()), nowUs()]
  const result = await measure()
  run.windows[name] = { fromUs, toUs: nowUs() }
  const usage = usageBetween(cpuBefore, await snapshot(processNames()))
  run.results.cpu[name] = usage
  return { result, usage, before, after: await scrapeBoth() }
}

/**
 * Waits (60 s at most) until users-api has delivered every mail it queued: the mails of
 * signups are the signups' cost, not that of whatever is measured next.
 */
async function settleMail(run: Run): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const m = await scrape(`${run.stack.usersUrl}/metrics`)
    const count = (name: string) => m?.get(name) ?? 0
    const done = count('mail_sent_total') + count('mail_failed_total')
    if (m && done >= count('mail_queued_total')) return
    await sleep(200)
  }
  say('  (mail still queued after 60 s)')
}

async function runClosed(run: Run, name: ClosedScenario): Promise<void> {
  const { plan, stack, traffic } = run
  const target = name === 'login-half' ? 'login' : name
  const connections = run.connections(name)
  // Each connection holds one refresh token; a run that stops mid-request loses it.
  if (target === 'refresh' && traffic.refreshTokens.length < connections) {
    throw new Error(`refresh needs ${connections} sessions, has ${traffic.refreshTokens.length}`)
  }
  const spec = { url: stack.usersUrl, connections, requests: [traffic.request(target)] }
  say(
    `- ${report.scenarioTitles[name]}: ${connections} connections, warm-up ${plan.warmupS} s and ${plan.warmupRequests} answers at least`,
  )
  const warm = await closedLoop({ ...spec, durationS: plan.warmupS })
  const left = plan.warmupRequests - warm.responses
  if (left > 0) await closedLoop({ ...spec, amount: left })
  // The warm-up's mails are not the measured signups' cost.
  if (target === 'signup') await settleMail(run)
  await sleep(plan.pauseMs)
  const o = await observe(run, name, () => closedLoop({ ...spec, durationS: plan.durationS[name] }))
  const route = target === 'me' ? '/v1/users/me' : `/v1/auth/${target}`
  run.results.scenarios[name] = o.result
  run.results.breakdowns[name] =
    target === 'healthz' ? null : breakdown(o.before, o.after, route, o.result.latency.mean)
  const { ok, elapsedS, latency: l, responses } = o.result
  say(
    `  ${(ok / elapsedS).toFixed(1)} req/s, p50 ${l.p50?.toFixed(2) ?? '–'} ms, p99 ${l.p99?.toFixed(2) ?? '–'} ms, non-2xx ${responses - ok}${cpuText(o.usage)}`,
  )
  if (target === 'signup') await settleMail(run)
  await sleep(plan.pauseMs)
}

async function runOverload(run: Run) {
  const login = run.results.scenarios.login
  const rate = login ? (overloadFactor * login.ok) / login.elapsedS : 0
  if (rate <= 0) throw new Error('overload needs the measured login capacity')
  const { overloadS } = run.plan
  say(
    `- overload: open loop at ${rate.toFixed(0)} login/s (${overloadFactor} × login), ${overloadS} s`,
  )
  const o = await observe(run, 'overload', () =>
    openLoop({
      ...{ url: run.stack.usersUrl, path: '/v1/auth/login', rate, durationS: overloadS },
      ...{ body: run.traffic.loginBody, onOk: run.traffic.remember },
      ...{ timeoutMs: clientTimeoutMs, maxConnections: 512 },
    }),
  )
  const r = o.result
  say(
    `  admitted ${(r.ok / r.elapsedS).toFixed(1)}/s, p99 ${r.admitted.p99?.toFixed(0) ?? '–'} ms, 503 ${r.statusCounts['503'] ?? 0} of ${r.sent}, hung ${r.hung}${cpuText(o.usage)}`,
  )
  return r
}

/**
 * Signs up enough accounts for login (round-robin), and enough live sessions for refresh: each
 * refresh run can strand one session per connection (the answer to its last request is never
 * read), so four runs' worth.
 */
async function ensureAccounts(run: Run, name: ClosedScenario, accounts: number): Promise<void> {
  const { traffic } = run
  const sessions = name === 'refresh' ? run.connections('refresh') * 4 : 0
  const wanted = Math.max(
    accounts - traffic.accounts.length,
    sessions - traffic.refreshTokens.length,
    0,
  )
  if (wanted === 0) return
  say(`- seeding ${wanted} accounts (have ${traffic.accounts.length})`)
  const goal = traffic.accounts.length + wanted
  const requests = [traffic.request('signup')]
  // A signup shed under load (503) is tried again, three rounds at most.
  let answers = {}
  for (let round = 0; round < 3 && traffic.accounts.length < goal; round++) {
    const amount = goal - traffic.accounts.length
    const connections = Math.min(amount, run.connections('signup'))
    answers = (await closedLoop({ url: run.stack.usersUrl, connections, requests, amount }))
      .statusCounts
  }
  if (traffic.accounts.length < goal) {
    const have = traffic.accounts.length
    throw new Error(`seeding: ${have} of ${goal} accounts, last answers ${JSON.stringify(answers)}`)
  }
  await settleMail(run)
}

/** argon2 alone, in a process of its own whose libuv pool has auth-api's size. */
async function ceilingPass(spec: CeilingSpec, threads: number, label: string) {
  say(`- argon2 ceiling, ${label}: ${spec.durationS} s hash, ${spec.durationS} s verify, no HTTP`)
  const env = { ...baseEnv(), UV_THREADPOOL_SIZE: String(threads) }
  const ceilingChild = join(repoRoot, 'bench/src/ceiling-child.ts')
  const child = startNode('argon2 ceiling', ceilingChild, { env, ipc: true })
  try {
    const before = await snapshot(processNames())
    const limitMs = (spec.durationS * 2 + spec.singleS + 60) * 1000
    const result = await child.ask<CeilingResult>(spec, limitMs)
    const usage = usageBetween(before, await snapshot(processNames()))
    say(`  ${report.passText(result)}${cpuText(usage)}`)
    return { result, usage }
  } finally {
    await child.stop(5000)
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
  })
  if (values.help) {
    say(usage)
    return
  }
  const only = values.only?.split(',').map((name) => name.trim()) as Scenario[] | undefined
  const profile = values.profile as Scenario | undefined
  for (const name of [...(only ?? []), ...(profile ? [profile] : [])]) {
    if (![...report.closedScenarios, 'overload'].includes(name))
      throw new Error(`${name}?\n${usage}`)
  }
  const plan = values.quick ? plans.quick : plans.full
  const mode = only ? 'partial' : values.quick ? 'quick' : 'full'
  const machine = report.describeMachine()
  // auth-api's defaults: a thread per core, a job per thread.
  const threads = Number(process.env.HASH_THREADS) || availableParallelism()
  const concurrency = Number(process.env.HASH_CONCURRENCY) || threads
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
  const resultsDir = join(repoRoot, 'bench/results')
  const profileDir = join(resultsDir, 'profiles')
  const started = Date.now()
  say(`bench (${profile ? `profile ${profile}` : mode}): ${report.machineLine(machine)}`)
  if (profile) {
    await rm(profileDir, { recursive: true, force: true })
    await mkdir(profileDir, { recursive: true })
  }
  // One directory per process: tsx's module hooks run on a thread of their own that writes a
  // profile too; the main thread's has thread id 0 in its name.
  // BENCH_NODE_FLAGS: flags of the caller's for every child, such as --perf-basic-prof for perf.
  const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)
  const nodeFlags = (name: string): string[] => [
    ...extraFlags,
    ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : []),
  ]
  say('- starting MongoDB, auth-api and users-api')
  const stack = await startStack({ hashing: { threads, concurrency }, runId, nodeFlags })
  say(`  MongoDB: ${stack.mongoBackend}; Redis: ${stack.redis ? 'yes' : 'no'}`)
  const ceilingSpec = (scale: number): CeilingSpec => ({
    ...{ argon2: stack.argon2, concurrency, durationS: plan.ceilingS * scale },
    singleS: (plan.ceilingS * scale) / 2,
  })
  const run: Run = {
    ...{ plan, stack, traffic: new Traffic(runId, randomBytes(18).toString('base64url')) },
    // Enough to keep the hash pool busy; about half of it for login-half; 32 for the rest.
    connections: (name) =>
      name === 'signup' || name === 'login'
        ? concurrency * 4
        : name === 'login-half'
          ? Math.max(1, Math.round(concurrency / 2))
          : 32,
    results: { scenarios: {}, cpu: {}, breakdowns: {}, datasets: {} },
    windows: {},
  }
  let before: Awaited<ReturnType<typeof ceilingPass>> | null = null
  let overload = null
  try {
    // With the stack started but idle, so that the parameters are auth-api's own.
    if (!profile) before = await ceilingPass(ceilingSpec(1), threads, 'before the scenarios')
    const listed = profile ? [profile] : (only ?? [...report.closedScenarios, 'overload'])
    const wanted = (name: Scenario): boolean =>
      listed.includes(name) || (name === 'login' && listed.includes('overload'))
    // The reads first, both on one database of a fixed size (mongo-lite scans whole
    // collections, so its cost grows with them); then the writes, which grow it.
    for (const name of report.closedScenarios.filter(wanted)) {
      const seeded = name !== 'signup' && (name !== 'healthz' || wanted('me'))
      if (seeded) await ensureAccounts(run, name, values.quick ? 64 : 200)
      await runClosed(run, name)
    }
    if (wanted('overload')) overload = await runOverload(run)
  } finally {
    say('- stopping')
    await stack.stop()
    await stopAll(5000)
  }
  if (profile) return reportProfiles(profile, profileDir, run.windows[profile])
  if (!before) throw new Error('no ceiling measured')
  const after = await ceilingPass(ceilingSpec(0.5), threads, 'after the stack')
  const cpu = { 'ceiling before': before.usage, 'ceiling after': after.usage, ...run.results.cpu }
  const busy = (u: CpuUsage | null | undefined): boolean => (u?.otherCores ?? 0) > quietCores
  const disturbed = Object.entries(cpu).filter(([, usage]) => busy(usage))
  const measured: Omit<Results, 'ratios'> = {
    ...{ mode, machine, ...run.results, cpu, overload },
    notes: [
      `The load generator (autocannon for the closed-loop scenarios, undici for the open-loop overload, in the bench's own process) shares the ${machine.cores} cores with users-api, auth-api and MongoDB, so every HTTP figure includes its CPU cost.`,
      `MongoDB: ${stack.mongoBackend}${stack.mongoBackend === 'mongo-lite' ? ' (the workspace’s in-memory wire server, in its own process)' : ''}; Redis: ${stack.redis ? 'yes' : 'no'}. Each service runs in its own process with NODE_ENV=production.`,
      `argon2 parameters read from a hash made by auth-api (${paramsText(stack.argon2)}); the ceiling process has UV_THREADPOOL_SIZE=${threads} and keeps ${concurrency} jobs in flight, like auth-api.`,
      `Ceiling measured before the scenarios, the stack idle (${report.passText(before.result)}), and after the stack stopped (${report.passText(after.result)}); the ratios use the better of the two.`,
      disturbed.length === 0
        ? `Other processes on the machine used at most ${quietCores} cores during every measurement.`
        : `Other processes on the machine used more than ${quietCores} cores during: ${disturbed.map(([name, u]) => `${name} (${u?.otherCores.toFixed(2) ?? '?'})`).join(', ')}; those figures are not a quiet machine's (less throughput, more latency; a ratio against a disturbed ceiling can come out too high), and the ratios they enter are marked.`,
      `Durations: ceiling ${plan.ceilingS} s per measurement; HTTP scenarios ${plan.warmupS} s and at least ${plan.warmupRequests} answers of warm-up, then ${plan.durationS.login} s measured (signup ${plan.durationS.signup} s); overload ${plan.overloadS} s. Latencies in ms of 2xx answers (HdrHistogram, 3 significant digits); errors are non-2xx answers plus socket errors.`,
    ],
    settings: {
      ...stack.settings,
      // Flags change what is measured (the ceiling process runs without them): on record.
      ...(extraFlags.length > 0 ? { BENCH_NODE_FLAGS: extraFlags.join(' ') } : {}),
      INTERNAL_API_TOKEN: '(random, 43 characters)',
      JWT_PRIVATE_KEYS: '(fresh Ed25519 key)',
      ...{ overloadFactor, clientTimeoutMs },
      totalSeconds: Math.round((Date.now() - started) / 1000),
    },
    ceiling: report.bestCeiling(before.result, after.result),
    ceilingPasses: { before: before.result, after: after.result },
  }
  // The ceiling is the better of two passes: disturbed only when both were.
  const names = new Set(disturbed.map(([name]) => name))
  if (busy(before.usage) && busy(after.usage)) names.add('ceiling')
  const results: Results = { ...measured, ratios: report.computeRatios(measured, names) }
  const markdown = report.toMarkdown(results)
  const base = join(resultsDir, mode === 'full' ? 'latest' : mode)
  await mkdir(resultsDir, { recursive: true })
  await writeFile(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(`${base}.md`, markdown)
  say(`\n${markdown}\nResults written to ${base}.{json,md} (${measured.settings.totalSeconds} s)`)
  const missed = results.ratios.filter((r) => r.met === false)
  if (mode === 'full' && missed.length > 0) {
    say(`Targets missed: ${missed.map((r) => r.name).join('; ')}`)
    process.exitCode = 1
  }
}

/** Summaries of each process's main-thread profile, within the scenario's measured window. */
async function reportProfiles(
  scenario: Scenario,
  profileDir: string,
  window: { fromUs: number; toUs: number } | undefined,
): Promise<void> {
  if (!window) throw new Error(`${scenario} was not measured`)
  const parts = [`# CPU profile of \`${scenario}\``, '']
  parts.push('Samples of the measured window only (start-up, seeding, warm-up left out).', '')
  for (const dir of (await readdir(profileDir)).sort()) {
    const files = await readdir(join(profileDir, dir)).catch(() => [])
    const main = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    if (!main) continue
    const summary = await summarizeProfile(join(profileDir, dir, main), repoRoot, window)
    parts.push(profileMarkdown(dir, summary))
  }
  await writeFile(join(profileDir, `summary-${scenario}.md`), parts.join('\n'))
  say(`\n${parts.join('\n')}\nProfiles and summary in ${profileDir}`)
}

main().catch(async (error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  await stopAll(3000)
  process.exit(1)
})
