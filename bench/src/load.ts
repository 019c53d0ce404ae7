import { join } from 'node:path'
import { baseEnv, forkScript, repoRoot, type Child } from './children.js'
import type {
  ClosedLoopResult,
  ClosedLoopSpec,
  LoadCommand,
  LoadReply,
  OpenLoopResult,
  OpenLoopSpec,
  PrepareSpec,
  SeedSpec,
  StoreResult,
} from './load-protocol.js'

/** The load generator's process, driven over IPC one command at a time. */
export class LoadGenerator {
  private nextId = 1
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >()

  private constructor(readonly child: Child) {
    child.process.on('message', (reply: LoadReply) => {
      const waiter = this.pending.get(reply.id)
      if (!waiter) return
      this.pending.delete(reply.id)
      if (reply.ok) waiter.resolve(reply.result)
      else waiter.reject(new Error(`load generator: ${reply.error}`))
    })
    void child.exit.then(({ code, signal }) => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`load generator exited (${signal ?? String(code)})${child.tail()}`))
      }
      this.pending.clear()
    })
  }

  static start(nodeFlags: string[] = []): LoadGenerator {
    return new LoadGenerator(
      forkScript('load generator', join(repoRoot, 'bench/src/load-child.ts'), {
        env: baseEnv(),
        nodeFlags,
      }),
    )
  }

  /** Sends one command; rejects if no answer comes within `timeoutMs`. */
  private send(command: LoadCommand, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`load generator: no answer to ${command.kind} in ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.child.process.send({ id, command })
    })
  }

  async prepare(spec: Omit<PrepareSpec, 'kind'>): Promise<StoreResult> {
    return (await this.send({ kind: 'prepare', ...spec }, 10_000)) as StoreResult
  }

  async seed(spec: Omit<SeedSpec, 'kind'>): Promise<StoreResult> {
    return (await this.send(
      { kind: 'seed', ...spec },
      (spec.timeLimitS + 30) * 1000,
    )) as StoreResult
  }

  async store(): Promise<StoreResult> {
    return (await this.send({ kind: 'store' }, 10_000)) as StoreResult
  }

  async closed(spec: Omit<ClosedLoopSpec, 'kind'>): Promise<ClosedLoopResult> {
    const limit = (spec.durationS + spec.timeoutS + 30) * 1000
    return (await this.send({ kind: 'closed', ...spec }, limit)) as ClosedLoopResult
  }

  async open(spec: Omit<OpenLoopSpec, 'kind'>): Promise<OpenLoopResult> {
    const limit = spec.durationS * 1000 + spec.timeoutMs + 30_000
    return (await this.send({ kind: 'open', ...spec }, limit)) as OpenLoopResult
  }

  /** Closes the IPC channel, on which the generator exits by itself; SIGTERM if it does not. */
  async stop(): Promise<void> {
    if (this.child.process.connected) this.child.process.disconnect()
    const timer = setTimeout(() => void this.child.stop(5000), 5000)
    await this.child.exit
    clearTimeout(timer)
  }
}
