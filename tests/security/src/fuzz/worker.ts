import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fuzz, type FuzzStats, type FuzzTarget } from './engine.js'
import { jsonBodyTarget } from './targets/json-body.js'
import { wireProtocolTarget } from './targets/wire-protocol.js'

// One fuzz target in a process of its own, started by cli.ts: the parent watches its
// heartbeats (a hang stops them), its exit (a crash of the process) and its result.

export const targets: Record<string, () => Promise<FuzzTarget>> = {
  'mongo-lite-wire': wireProtocolTarget,
  'json-body': jsonBodyTarget,
}

export type WorkerMessage =
  | { type: 'heartbeat'; runs: number }
  /** The target has closed: everything after the result went well too. */
  | { type: 'closed' }
  | { type: 'progress'; stats: Omit<FuzzStats, 'crashes'> & { crashes: number } }
  | {
      type: 'result'
      stats: Omit<FuzzStats, 'crashes'> & {
        crashes: { input: string; error: string }[]
        notes: string
      }
    }

const [name = '', seed = '1', timeMs = '10000', corpusDir = '', stopOnCrash = 'false'] =
  process.argv.slice(2)
const send = (message: WorkerMessage) => process.send?.(message)
const make = targets[name]
if (!make) throw new Error(`unknown fuzz target ${name}`)
const target = await make()
const currentFile = join(corpusDir, `.current-${name}`)
let runs = 0
let lastBeat = 0
const stats = await fuzz(target, {
  seed: Number(seed),
  timeMs: Number(timeMs),
  corpusDir,
  stopOnCrash: stopOnCrash === 'true',
  onInput: (input) => {
    runs++
    writeFileSync(currentFile, input)
    const now = Date.now()
    if (now - lastBeat > 500) {
      lastBeat = now
      send({ type: 'heartbeat', runs })
    }
  },
  onProgress: (s) => send({ type: 'progress', stats: { ...s, crashes: s.crashes.length } }),
})
// The result goes out before the target closes: a close that hangs or dies loses nothing found.
send({
  type: 'result',
  stats: {
    ...stats,
    crashes: stats.crashes.map((c) => ({ input: c.input.toString('base64'), error: c.error })),
    notes: target.notes?.() ?? '',
  },
})
await target.close?.()
send({ type: 'closed' })
if (process.connected) process.disconnect()
