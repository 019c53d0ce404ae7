/** Latencies of one measurement, in milliseconds, kept exactly (a run holds at most a few 100k). */
export class LatencyRecorder {
  private values = new Float64Array(1024)
  private length = 0

  constructor(private readonly maxSamples = 2_000_000) {}

  get count(): number {
    return this.length
  }

  record(ms: number): void {
    if (this.length >= this.maxSamples) return
    if (this.length === this.values.length) {
      const grown = new Float64Array(Math.min(this.values.length * 2, this.maxSamples))
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = ms
  }

  summary(): LatencySummary {
    const sorted = this.values.slice(0, this.length).sort()
    return {
      count: this.length,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: this.length > 0 ? (sorted[this.length - 1] ?? null) : null,
      mean: this.length > 0 ? sorted.reduce((sum, v) => sum + v, 0) / this.length : null,
    }
  }
}

export interface LatencySummary {
  count: number
  p50: number | null
  p95: number | null
  p99: number | null
  max: number | null
  mean: number | null
}

/** Nearest-rank percentile of ascending values; null when there are none. */
export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null
}
