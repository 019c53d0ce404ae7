import { readdir, readFile } from 'node:fs/promises'

// CPU used by each process of the bench, read from /proc (Linux; elsewhere every reading is
// null), and how much the rest of the machine used meanwhile: a run disturbed by other work
// says so instead of passing off slower numbers as the code's.

const ticksPerSecond = 100 // USER_HZ, the unit of /proc/stat and /proc/<pid>/stat

export interface ProcessCpu {
  /** CPU seconds of the process (every thread) and of its descendants. */
  seconds: number
  /** CPU seconds of its main thread alone (for node: JavaScript and the event loop). */
  mainThreadSeconds: number
}

export interface CpuUsage {
  seconds: number
  /** Cores' worth of CPU used by the bench's processes. */
  benchCores: number
  /** Cores' worth of CPU used by every other process on the machine. */
  otherCores: number
  byProcess: Record<string, ProcessCpu>
}

export interface CpuSnapshot {
  atMs: number
  machineTicks: number
  byProcess: Map<string, { ticks: number; mainTicks: number }>
}

/** utime + stime of a /proc/…/stat line (the command name may hold spaces and parentheses). */
export function statTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

const read = (path: string): Promise<string | null> => readFile(path, 'utf8').catch(() => null)

/** Busy ticks of the whole machine: user nice system (idle iowait) irq softirq steal. */
async function machineTicks(): Promise<number> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? ''
  const n = first.trim().split(/\s+/).slice(1, 9).map(Number)
  return n.reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0)
}

/**
 * Ticks of the bench's process and its descendants, each counted for its nearest ancestor
 * named in `names` (the bench itself otherwise); the main thread is the task whose tid is the
 * pid.
 */
export async function snapshot(names: ReadonlyMap<number, string>): Promise<CpuSnapshot | null> {
  const byProcess = new Map<string, { ticks: number; mainTicks: number }>()
  const visit = async (pid: number, owner: string): Promise<void> => {
    const stat = await read(`/proc/${pid}/stat`)
    if (stat === null) return
    const name = names.get(pid) ?? owner
    const entry = byProcess.get(name) ?? { ticks: 0, mainTicks: 0 }
    byProcess.set(name, entry)
    entry.ticks += statTicks(stat)
    if (names.has(pid) || pid === process.pid) {
      const main = await read(`/proc/${pid}/task/${pid}/stat`)
      entry.mainTicks += main === null ? 0 : statTicks(main)
    }
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [])
    const children = await Promise.all(
      tasks.map((tid) => read(`/proc/${pid}/task/${tid}/children`)),
    )
    const pids = children.flatMap((list) => list?.split(' ').filter(Boolean).map(Number) ?? [])
    await Promise.all(pids.map((child) => visit(child, name)))
  }
  try {
    const machine = await machineTicks()
    await visit(process.pid, 'bench')
    return { atMs: performance.now(), machineTicks: machine, byProcess }
  } catch {
    return null
  }
}

/** CPU used between two snapshots, taken while the measured processes are alive. */
export function usageBetween(from: CpuSnapshot | null, to: CpuSnapshot | null): CpuUsage | null {
  const seconds = from && to ? (to.atMs - from.atMs) / 1000 : 0
  if (!from || !to || seconds <= 0) return null
  let ours = 0
  const byProcess: Record<string, ProcessCpu> = {}
  for (const [name, now] of to.byProcess) {
    const then = from.byProcess.get(name) ?? { ticks: 0, mainTicks: 0 }
    const ticks = Math.max(0, now.ticks - then.ticks)
    ours += ticks
    byProcess[name] = {
      seconds: ticks / ticksPerSecond,
      mainThreadSeconds: Math.max(0, now.mainTicks - then.mainTicks) / ticksPerSecond,
    }
  }
  const machine = (to.machineTicks - from.machineTicks) / ticksPerSecond
  return {
    seconds,
    benchCores: ours / ticksPerSecond / seconds,
    otherCores: Math.max(0, machine - ours / ticksPerSecond) / seconds,
    byProcess,
  }
}
