import { join } from 'node:path'
import { baseEnv, childNames, forkScript, repoRoot } from './children.js'
import type { CeilingResult, CeilingSpec } from './ceiling-protocol.js'
import { snapshot, usageBetween, type CpuUsage } from './cpu-monitor.js'

/**
 * Runs the argon2 ceiling in a process of its own: libuv's pool size is fixed per process at
 * its first use, so it is set there to the service's HASH_THREADS before anything starts.
 */
export async function measureCeiling(
  spec: CeilingSpec,
  threads: number,
): Promise<{ result: CeilingResult; cpu: CpuUsage | null }> {
  const child = forkScript('argon2 ceiling', join(repoRoot, 'bench/src/ceiling-child.ts'), {
    env: { ...baseEnv(), UV_THREADPOOL_SIZE: String(threads) },
  })
  const limitMs = (spec.durationS * 2 + spec.singleS + 60) * 1000
  try {
    const before = await snapshot(childNames())
    const result = await new Promise<CeilingResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`argon2 ceiling: no result in ${limitMs} ms${child.tail()}`))
      }, limitMs)
      child.process.once('message', (result: CeilingResult) => {
        clearTimeout(timer)
        resolve(result)
      })
      void child.exit.then(({ code }) => {
        clearTimeout(timer)
        reject(new Error(`argon2 ceiling exited with ${String(code)}${child.tail()}`))
      })
      child.process.send(spec)
    })
    return { result, cpu: await usageBetween(before, await snapshot(childNames())) }
  } finally {
    await child.stop(5000)
  }
}
