import { readdir, readFile } from 'node:fs/promises'

// How much CPU the rest of the machine used while something was measured: the bench's own
// process tree (services, MongoDB, load generator, ceiling) is told apart from everything else,
// so a run disturbed by other work says so instead of passing off slower numbers as the code's.
// Linux only (/proc); elsewhere every reading is null.

const ticksPerSecond = 100 // USER_HZ, the unit of /proc/stat and /proc/<pid>/stat on Linux

export interface CpuSnapshot {
  at: number
  /** Busy ticks of the whole machine (all cores). */
  machineBusy: number
  /** CPU ticks of the bench and each of its descendants, by pid. */
  ours: Map<number, number>
  /** CPU ticks of each of those processes' main thread (a node process's event loop). */
  mainThread: Map<number, number>
  /** The process each pid counts for: the nearest named ancestor (or itself). */
  owner: Map<number, string>
  /** The pid each name stands for. */
  roots: Map<string, number>
  /** CPU ticks of every process on the machine, for naming the busiest others. */
  all: Map<number, number>
}

export interface ProcessCpu {
  /** CPU seconds of the whole process (every thread). */
  seconds: number
  /** CPU seconds of its main thread alone (for node: JavaScript and the event loop). */
  mainThreadSeconds: number
}

export interface CpuUsage {
  seconds: number
  /** Cores' worth of CPU used by the bench's process tree. */
  benchCores: number
  /** Cores' worth of CPU used by every other process on the machine. */
  otherCores: number
  /** CPU used by each named process of the bench (children of a child count for it). */
  byProcess: Record<string, ProcessCpu>
  /** The busiest processes outside the bench, for the console (left out of the results). */
  busiestOthers: { pid: number; name: string; cores: number }[]
}

async function machineBusyTicks(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? ''
  const [, ...fields] = line.trim().split(/\s+/)
  const n = fields.map(Number)
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = n
  return user + nice + system + irq + softirq + steal
}

interface ProcStat {
  ppid: number
  ticks: number
}

async function processStats(): Promise<Map<number, ProcStat>> {
  const stats = new Map<number, ProcStat>()
  const entries = await readdir('/proc')
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        try {
          const text = await readFile(`/proc/${name}/stat`, 'utf8')
          // The command name may hold spaces and parentheses: fields start after the last ')'.
          const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
          const ppid = Number(fields[1])
          const ticks = Number(fields[11]) + Number(fields[12])
          stats.set(Number(name), { ppid, ticks })
        } catch {
          // The process ended while we looked.
        }
      }),
  )
  return stats
}

async function threadTicks(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}

/** Ticks used so far by this process and each of its living descendants. */
async function treeTicks(
  root: number,
  names: ReadonlyMap<number, string>,
): Promise<{
  ticks: Map<number, number>
  owner: Map<number, string>
  roots: Map<string, number>
  all: Map<number, number>
}> {
  const stats = await processStats()
  const children = new Map<number, number[]>()
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid) ?? []
    list.push(pid)
    children.set(stat.ppid, list)
  }
  const ticks = new Map<number, number>()
  const owner = new Map<number, string>()
  const roots = new Map<string, number>()
  const stack: [number, string][] = [[root, names.get(root) ?? 'bench']]
  while (stack.length > 0 && ticks.size < 10_000) {
    const [pid, inherited] = stack.pop() ?? [root, 'bench']
    if (ticks.has(pid)) continue
    const name = names.get(pid) ?? inherited
    if (pid === root || names.has(pid)) roots.set(name, pid)
    ticks.set(pid, stats.get(pid)?.ticks ?? 0)
    owner.set(pid, name)
    for (const child of children.get(pid) ?? []) stack.push([child, name])
  }
  const all = new Map([...stats].map(([pid, stat]) => [pid, stat.ticks]))
  return { ticks, owner, roots, all }
}

/** Reads the counters; `names` names the pids whose CPU is reported on its own. */
export async function snapshot(
  names: ReadonlyMap<number, string> = new Map(),
): Promise<CpuSnapshot | null> {
  try {
    const [machineBusy, tree] = await Promise.all([
      machineBusyTicks(),
      treeTicks(process.pid, names),
    ])
    const mainThread = new Map<number, number>()
    await Promise.all(
      [...tree.ticks.keys()].map(async (pid) => {
        mainThread.set(pid, await threadTicks(pid))
      }),
    )
    return {
      at: performance.now(),
      machineBusy,
      ours: tree.ticks,
      mainThread,
      owner: tree.owner,
      roots: tree.roots,
      all: tree.all,
    }
  } catch {
    return null
  }
}

/**
 * A short name for a process outside the bench, for the console only: a node process by its
 * script (other tests, servers), anything else by its command name alone.
 */
async function nameOf(pid: number): Promise<string> {
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim()
    if (comm !== 'node') return comm
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
    const script = args.find((arg) => /\.(?:[cm]?js|ts)$/.test(arg))
    return script ? `node ${script.split('/').slice(-3).join('/')}` : 'node'
  } catch {
    return '(exited)'
  }
}

/** The processes outside the bench that used a tenth of a core or more between two snapshots. */
export async function busiestOthers(
  from: CpuSnapshot | null,
  to: CpuSnapshot | null,
  limit = 3,
): Promise<{ pid: number; name: string; cores: number }[]> {
  if (!from || !to) return []
  const seconds = (to.at - from.at) / 1000
  const deltas = [...to.all]
    .filter(([pid]) => !to.ours.has(pid))
    .map(([pid, ticks]) => ({ pid, used: ticks - (from.all.get(pid) ?? 0) }))
    .filter((d) => d.used / ticksPerSecond / seconds >= 0.1)
    .sort((a, b) => b.used - a.used)
    .slice(0, limit)
  return Promise.all(
    deltas.map(async (d) => ({
      pid: d.pid,
      name: await nameOf(d.pid),
      cores: d.used / ticksPerSecond / seconds,
    })),
  )
}

/**
 * CPU used between two snapshots. A process that exited in between takes its last ticks with
 * it (they count as another process's), so take both while the measured processes are alive.
 */
export async function usageBetween(
  from: CpuSnapshot | null,
  to: CpuSnapshot | null,
): Promise<CpuUsage | null> {
  if (!from || !to) return null
  const seconds = (to.at - from.at) / 1000
  if (seconds <= 0) return null
  const machine = (to.machineBusy - from.machineBusy) / ticksPerSecond
  let oursTicks = 0
  const byProcess: Record<string, ProcessCpu> = {}
  for (const [pid, ticks] of to.ours) {
    const used = Math.max(0, ticks - (from.ours.get(pid) ?? 0))
    const main = Math.max(0, (to.mainThread.get(pid) ?? 0) - (from.mainThread.get(pid) ?? 0))
    oursTicks += used
    const name = to.owner.get(pid) ?? 'bench'
    const entry = (byProcess[name] ??= { seconds: 0, mainThreadSeconds: 0 })
    entry.seconds += used / ticksPerSecond
    // Only a named process's own main thread: its helpers' main threads are theirs.
    if (to.roots.get(name) === pid) {
      entry.mainThreadSeconds += main / ticksPerSecond
    }
  }
  if (process.env.BENCH_DEBUG_CPU) {
    process.stderr.write(
      `cpu: machine ${machine.toFixed(2)} s busy in ${seconds.toFixed(2)} s; from ${JSON.stringify([...from.ours])} to ${JSON.stringify([...to.ours])}\n`,
    )
  }
  const ours = oursTicks / ticksPerSecond
  return {
    seconds,
    benchCores: ours / seconds,
    otherCores: Math.max(0, machine - ours) / seconds,
    byProcess,
    busiestOthers: await busiestOthers(from, to),
  }
}
