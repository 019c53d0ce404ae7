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
}

export interface CpuUsage {
  seconds: number
  /** Cores' worth of CPU used by the bench's process tree. */
  benchCores: number
  /** Cores' worth of CPU used by every other process on the machine. */
  otherCores: number
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

/** Ticks used so far by this process and each of its living descendants. */
async function treeTicks(root: number): Promise<Map<number, number>> {
  const stats = await processStats()
  const children = new Map<number, number[]>()
  for (const [pid, stat] of stats) {
    const list = children.get(stat.ppid) ?? []
    list.push(pid)
    children.set(stat.ppid, list)
  }
  const ticks = new Map<number, number>()
  const stack = [root]
  while (stack.length > 0 && ticks.size < 10_000) {
    const pid = stack.pop() ?? root
    if (ticks.has(pid)) continue
    ticks.set(pid, stats.get(pid)?.ticks ?? 0)
    stack.push(...(children.get(pid) ?? []))
  }
  return ticks
}

export async function snapshot(): Promise<CpuSnapshot | null> {
  try {
    const [machineBusy, ours] = await Promise.all([machineBusyTicks(), treeTicks(process.pid)])
    return { at: performance.now(), machineBusy, ours }
  } catch {
    return null
  }
}

/**
 * CPU used between two snapshots. A process that exited in between takes its last ticks with
 * it (they count as another process's), so take both while the measured processes are alive.
 */
export function usageBetween(from: CpuSnapshot | null, to: CpuSnapshot | null): CpuUsage | null {
  if (!from || !to) return null
  const seconds = (to.at - from.at) / 1000
  if (seconds <= 0) return null
  const machine = (to.machineBusy - from.machineBusy) / ticksPerSecond
  let oursTicks = 0
  for (const [pid, ticks] of to.ours) oursTicks += Math.max(0, ticks - (from.ours.get(pid) ?? 0))
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
  }
}
