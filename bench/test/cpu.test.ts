import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { snapshot, statTicks, usageBetween } from '../src/cpu.js'

// Spends `ms` of CPU on the calling thread (not of wall time: the machine may be busy).
const burn = (ms: number): void => {
  const start = process.cpuUsage()
  while (process.cpuUsage(start).user < ms * 1000);
}

describe('statTicks', () => {
  it('adds utime and stime after a command name holding spaces and parentheses', () => {
    const line = '42 (node (x) y) S 1 42 42 0 -1 4194560 10 0 0 0 250 75 0 0 20 0 11 0 9 1 2'
    expect(statTicks(line)).toBe(325)
  })
})

describe('snapshot and usageBetween', () => {
  it('counts a named child with its own children, and main threads apart', async () => {
    // A shell whose node child burns 300 ms of CPU, says so, then idles until killed.
    const busy = `const s = process.cpuUsage(); while (process.cpuUsage(s).user < 3e5); console.log(1)`
    const child = spawn('sh', [
      '-c',
      `"${process.execPath}" -e '${busy}; setTimeout(() => {}, 3000)'`,
    ])
    const names = new Map([
      [child.pid ?? 0, 'burner'],
      [process.pid, 'tests'],
    ])
    try {
      const before = await snapshot(names)
      burn(200)
      await once(child.stdout, 'data')
      const usage = usageBetween(before, await snapshot(names))
      expect(usage?.byProcess.burner?.seconds).toBeGreaterThanOrEqual(0.25)
      // The shell's own main thread idled: the node grandchild's is not the named process's.
      expect(usage?.byProcess.burner?.mainThreadSeconds).toBeLessThan(0.05)
      expect(usage?.byProcess.tests?.mainThreadSeconds).toBeGreaterThanOrEqual(0.15)
      expect(usage?.benchCores).toBeGreaterThan(0.2)
    } finally {
      child.kill('SIGKILL')
    }
  }, 30_000)
})
