import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/** The repository root, where the services' sources are. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

// Children run TypeScript sources as the services' `start` scripts do (tsx, the workspace's
// source condition), but as plain `node` processes so that flags such as --cpu-prof apply to
// the service itself rather than to a tsx wrapper.
const sourceFlags = ['--conditions=@users-auth/source', '--import', import.meta.resolve('tsx')]

const live = new Set<Child>()

/** A node child of the bench, with the last lines it printed kept for error messages. */
export class Child {
  private readonly lines: string[] = []
  running = true
  readonly exit: Promise<number | null>

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    this.exit = new Promise((resolve) =>
      process.once('exit', (code) => {
        this.running = false
        live.delete(this)
        resolve(code)
      }),
    )
    for (const stream of [process.stdout, process.stderr]) {
      stream?.setEncoding('utf8')
      stream?.on('data', (chunk: string) => {
        this.lines.push(...chunk.split('\n').filter((line) => line.trim() !== ''))
        this.lines.splice(0, Math.max(0, this.lines.length - 15))
      })
    }
    live.add(this)
  }

  tail(): string {
    return this.lines.length > 0 ? `\n  ${this.lines.join('\n  ').slice(0, 4000)}` : ''
  }

  /** Sends `message` (if any) and resolves with the child's next message. */
  async ask<T>(message: unknown, timeoutMs: number): Promise<T> {
    const reply = once(this.process, 'message', { signal: AbortSignal.timeout(timeoutMs) })
    if (message !== undefined) this.process.send(message as object)
    const exit = this.exit.then((code) => Promise.reject(new Error(`exited (${String(code)})`)))
    try {
      return (await Promise.race([reply, exit]))[0] as T
    } catch (error) {
      throw new Error(`${this.name}: no answer, ${String(error)}${this.tail()}`, { cause: error })
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGTERM')
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
    await this.exit
    clearTimeout(timer)
  }
}

/** A TypeScript entry point in its own node process, with an IPC channel when `ipc` is set. */
export function startNode(
  name: string,
  entry: string,
  options: { env: NodeJS.ProcessEnv; nodeFlags?: string[]; ipc?: boolean },
): Child {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...sourceFlags, entry], {
    cwd: repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
  })
  return new Child(name, child)
}

/** Enough to run node, nothing of the caller's configuration. */
export function baseEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']
  return Object.fromEntries(
    keep.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])),
  )
}

/** The pid of each running child, by name, for CPU accounting. */
export function childNames(): Map<number, string> {
  return new Map([...live].flatMap((c) => (c.process.pid ? [[c.process.pid, c.name]] : [])))
}

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
