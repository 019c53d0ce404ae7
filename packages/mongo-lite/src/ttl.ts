import { valuesAtPath } from './documents.js'
import type { Storage } from './storage.js'

/** mongod's default for ttlMonitorSleepSecs. */
export const DEFAULT_TTL_SWEEP_MS = 60_000

/**
 * Deletes documents whose TTL index says they have expired: the indexed field holds a Date
 * (or an array of them, the earliest counts) older than `expireAfterSeconds`. Documents
 * without a date there never expire, as with mongod. Returns how many were deleted.
 */
export function expireDocuments(storage: Storage, now: number): number {
  let deleted = 0
  for (const collection of storage.allCollections()) {
    for (const index of collection.indexes) {
      const seconds = index.spec.expireAfterSeconds
      const fields = Object.keys(index.spec.key)
      const [field] = fields
      if (typeof seconds !== 'number' || fields.length !== 1 || field === undefined) continue
      const path = field.split('.')
      for (const document of collection.documents()) {
        const dates = valuesAtPath(document, path).filter((value) => value instanceof Date)
        if (dates.length === 0 || !index.covers(document)) continue
        const earliest = Math.min(...dates.map((date) => date.getTime()))
        if (earliest + seconds * 1000 <= now) {
          collection.remove(document)
          deleted++
        }
      }
    }
  }
  return deleted
}

/** Runs a task every `intervalMs`; the interval can change while it runs (setParameter). */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly task: () => void,
    private period: number,
  ) {}

  get intervalMs(): number {
    return this.period
  }

  set intervalMs(value: number) {
    this.period = value
    if (this.timer) this.start()
  }

  start(): void {
    this.stop()
    this.timer = setInterval(this.task, this.period)
    // A test server must never keep its host process alive on its own.
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
