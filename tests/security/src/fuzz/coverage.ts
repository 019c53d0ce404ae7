import { Session } from 'node:inspector'

interface Range {
  startOffset: number
  endOffset: number
  count: number
}

interface ScriptCoverage {
  scriptId: string
  url: string
  functions: { ranges: Range[] }[]
}

/**
 * Edge-ish coverage from V8's precise block coverage, read in-process through the inspector.
 * Each take returns the blocks executed since the previous take (V8 resets its counters), as
 * features `script:start:end:bucket`, where the bucket is an AFL-style hit-count class, so
 * that running a loop more often also counts as new behaviour.
 */
export class Coverage {
  private readonly session = new Session()
  private readonly urls = new Map<string, string>()

  constructor(private readonly include: (url: string) => boolean) {}

  start(): void {
    this.session.connect()
    this.post('Profiler.enable')
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true })
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage')
    this.session.disconnect()
  }

  /** Features hit since the last call. */
  take(): string[] {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] }
    const features: string[] = []
    for (const script of result) {
      if (!this.include(script.url)) continue
      this.urls.set(script.scriptId, script.url)
      for (const fn of script.functions) {
        // Not run since the last take.
        if ((fn.ranges[0]?.count ?? 0) === 0) continue
        // V8 reports a nested block only where its count differs from the enclosing one, so a
        // block that was NOT run shows up as a range with count 0: passing one more branch
        // replaces it with a deeper one. Both kinds of range are features.
        for (const range of fn.ranges) {
          features.push(
            `${script.scriptId}:${String(range.startOffset)}:${String(range.endOffset)}:${String(bucket(range.count))}`,
          )
        }
      }
    }
    return features
  }

  /** The scripts coverage was collected from, for the report. */
  scripts(): string[] {
    return [...new Set(this.urls.values())].sort()
  }

  // Posting to an in-thread session completes synchronously: the callback runs before return.
  private post(method: string, params?: object): unknown {
    let outcome: { error: Error | null; result: unknown } | undefined
    this.session.post(method, params, (error, result) => {
      outcome = { error, result }
    })
    if (!outcome) throw new Error(`inspector did not answer ${method} synchronously`)
    if (outcome.error) throw outcome.error
    return outcome.result
  }
}

function bucket(count: number): number {
  if (count <= 3) return count
  if (count <= 7) return 4
  if (count <= 15) return 8
  if (count <= 31) return 16
  if (count <= 127) return 32
  return 128
}
