import { fork } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { WorkerMessage } from './worker.js'

// `pnpm fuzz [--ci] [--time <s>] [--seed <n>] [--target <name>]...`
//
// Coverage-guided fuzzing of mongo-lite's wire protocol and of users-api's JSON body handling
// (see SECURITY.md for why this engine and not Jazzer.js). Each target runs in a child process
// watched for hangs (no progress for --hang-after seconds) and deaths. Interesting inputs are
// kept in .fuzz-corpus/<target>/ and grow from run to run; crashes land in
// .fuzz-corpus/crashes/<target>/. --ci: a bounded run (default 50 s per target, both at once),
// stopping at the first crash; without it, 5 minutes per target. Exit 1 on any crash or hang.

const { values } = parseArgs({
  options: {
    ci: { type: 'boolean', default: false },
    time: { type: 'string' },
    seed: { type: 'string' },
    target: { type: 'string', multiple: true },
    'hang-after': { type: 'string', default: '20' },
    corpus: { type: 'string' },
  },
})

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
const corpusDir = values.corpus ?? join(repoRoot, '.fuzz-corpus')
const seconds = Number(values.time ?? (values.ci ? 50 : 300))
const seed = Number(values.seed ?? (values.ci ? 20_261_121 : Date.now() % 2 ** 31))
const names = values.target ?? ['mongo-lite-wire', 'json-body']
const hangAfterMs = Number(values['hang-after']) * 1000
mkdirSync(corpusDir, { recursive: true })

interface Outcome {
  name: string
  ok: boolean
  summary: string
}

function runTarget(name: string, index: number): Promise<Outcome> {
  const workerSeed = seed + index
  return new Promise((resolve) => {
    const child = fork(
      fileURLToPath(new URL('./worker.ts', import.meta.url)),
      [name, String(workerSeed), String(seconds * 1000), corpusDir, String(values.ci)],
      {
        execArgv: ['--conditions=@users-auth/source', '--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      },
    )
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    let result: Extract<WorkerMessage, { type: 'result' }>['stats'] | undefined
    let hung = false
    let closed = false
    let lastBeat = Date.now()
    const watchdog = setInterval(() => {
      if (Date.now() - lastBeat > hangAfterMs) {
        hung = true
        child.kill('SIGKILL')
      }
    }, 1000)
    child.on('message', (message: WorkerMessage) => {
      lastBeat = Date.now()
      if (message.type === 'progress') {
        const s = message.stats
        console.log(
          `[${name}] ${String(s.runs)} runs, ${String(s.features)} features, corpus ${String(s.corpus)}, ${String(s.crashes)} crashes`,
        )
      } else if (message.type === 'closed') {
        closed = true
      } else if (message.type === 'result') {
        result = message.stats
      }
    })
    child.on('exit', (code, signal) => {
      clearInterval(watchdog)
      const current = join(corpusDir, `.current-${name}`)
      const keep = (kind: string) => {
        if (!existsSync(current)) return '(no input recorded)'
        const dir = join(corpusDir, 'crashes', name)
        mkdirSync(dir, { recursive: true })
        const file = join(dir, `${kind}-${String(Date.now())}`)
        writeFileSync(file, readFileSync(current))
        return file
      }
      const hangSeconds = String(hangAfterMs / 1000)
      if (!result) {
        resolve({
          name,
          ok: false,
          summary: hung
            ? `HANG: no progress for ${hangSeconds} s; input kept in ${keep('hang')}`
            : `DIED (exit ${String(code)}, ${String(signal)}); input kept in ${keep('death')}\n${stderr}`,
        })
        return
      }
      const s = result
      const rate = Math.round(s.runs / Math.max(1, s.elapsedMs / 1000))
      const first = s.crashes[0]
      // Every input had run and its result arrived: a failure now is the target's close.
      const closeFailure = closed
        ? undefined
        : hung
          ? `HANG: closing the target took more than ${hangSeconds} s`
          : `DIED while closing the target (exit ${String(code)}, ${String(signal)})\n${stderr}`
      const summary = [
        `${String(s.runs)} runs (${String(rate)}/s), ${String(s.features)} coverage features, corpus ${String(s.corpus)}, seed ${String(workerSeed)}${s.notes ? `; ${s.notes}` : ''}`,
        first
          ? `CRASHES: ${String(s.crashes.length)}; first input (base64) ${first.input}\n${first.error}`
          : undefined,
        closeFailure,
      ]
      resolve({
        name,
        ok: !first && closed,
        summary: summary.filter((part) => part !== undefined).join('\n'),
      })
    })
  })
}

console.log(
  `fuzz: ${names.join(', ')} for ${String(seconds)} s each, seed ${String(seed)}, corpus ${corpusDir}`,
)
const outcomes = await Promise.all(names.map(runTarget))
for (const outcome of outcomes)
  console.log(`${outcome.ok ? 'ok  ' : 'FAIL'} ${outcome.name}: ${outcome.summary}`)
process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1
