import { fork, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root, where the services' sources are. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

// Children run TypeScript sources the way the services' `start` scripts do (tsx, with the
// workspace's source condition), but as plain `node` processes so that node flags such as
// --cpu-prof apply to the service itself.
const tsxLoader = import.meta.resolve('tsx')
const sourceFlags = ['--conditions=@users-auth/source', '--import', tsxLoader]

const keptLines = 40

/** A child process of the bench, with the last lines it printed kept for error messages. */
export class Child {
  readonly lines: string[] = []
  private exited = false
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    this.exit = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exited = true
        resolve({ code, signal })
      })
    })
    for (const stream of [process.stdout, process.stderr]) {
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (line.trim() === '') continue
          this.lines.push(line.length > 400 ? `${line.slice(0, 400)}…` : line)
          if (this.lines.length > keptLines) this.lines.shift()
        }
      })
    }
    live.add(this)
    void this.exit.then(() => live.delete(this))
  }

  get running(): boolean {
    return !this.exited
  }

  /** The first line matching `pattern`, waiting at most `timeoutMs`. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const seen = this.lines.map((line) => pattern.exec(line)).find((m) => m !== null)
    if (seen) return seen
    return new Promise((resolve, reject) => {
      const streams = [this.process.stdout, this.process.stderr]
      const onData = (chunk: string): void => {
        for (const line of chunk.split('\n')) {
          const match = pattern.exec(line)
          if (match) {
            done()
            resolve(match)
            return
          }
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(
          new Error(`${this.name}: no ${String(pattern)} within ${timeoutMs} ms${this.tail()}`),
        )
      }, timeoutMs)
      const onExit = (): void => {
        done()
        reject(new Error(`${this.name} exited before it was ready${this.tail()}`))
      }
      const done = (): void => {
        clearTimeout(timer)
        for (const stream of streams) stream?.off('data', onData)
        this.process.off('exit', onExit)
      }
      for (const stream of streams) stream?.on('data', onData)
      this.process.once('exit', onExit)
    })
  }

  tail(): string {
    return this.lines.length > 0 ? `\n  ${this.lines.slice(-15).join('\n  ')}` : ''
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGTERM')
    const timer = setTimeout(() => {
      if (this.running) this.process.kill('SIGKILL')
    }, graceMs)
    await this.exit
    clearTimeout(timer)
  }
}

const live = new Set<Child>()

export interface StartOptions {
  env: NodeJS.ProcessEnv
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[]
  args?: string[]
}

/** A TypeScript entry point in its own node process, output piped (no IPC channel). */
export function startScript(name: string, entry: string, options: StartOptions): Child {
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), ...sourceFlags, entry, ...(options.args ?? [])],
    { cwd: repoRoot, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  return new Child(name, child)
}

/** A TypeScript entry point in its own node process with an IPC channel. */
export function forkScript(name: string, entry: string, options: StartOptions): Child {
  const child = fork(entry, options.args ?? [], {
    cwd: repoRoot,
    env: options.env,
    execArgv: [...(options.nodeFlags ?? []), ...sourceFlags],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  return new Child(name, child)
}

/** The pid of each running child, by its name, for CPU accounting. */
export function childNames(): Map<number, string> {
  const names = new Map<number, string>()
  for (const child of live)
    if (child.process.pid !== undefined) names.set(child.process.pid, child.name)
  return names
}

/** Stops every child still running (each in parallel, SIGKILL after the grace time). */
export async function stopAll(graceMs?: number): Promise<void> {
  await Promise.all([...live].map((child) => child.stop(graceMs)))
}

// Whatever happens to the bench, no child outlives it.
process.once('exit', () => {
  for (const child of live) child.process.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, stopping the children\n`)
    void stopAll(3000).finally(() => process.exit(130))
  })
}

/** The base environment every child gets: enough to run node, nothing of the caller's config. */
export function baseEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'SYSTEMROOT']
  const env: NodeJS.ProcessEnv = {}
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key]
  return env
}
