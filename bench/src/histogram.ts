import hdr from 'hdr-histogram-js'

/** Latencies of one measurement in milliseconds; null where nothing was recorded. */
export interface LatencySummary {
  count: number
  p50: number | null
  p95: number | null
  p99: number | null
  max: number | null
  mean: number | null
}

/** Records milliseconds into an HdrHistogram of microseconds (3 significant digits). */
export function latencyRecorder(): { record(ms: number): void; summary(): LatencySummary } {
  const h = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 })
  const ms = (us: number): number | null => (h.totalCount > 0 ? us / 1000 : null)
  return {
    record: (value) => {
      h.recordValue(Math.round(value * 1000))
    },
    summary: () => ({
      count: h.totalCount,
      p50: ms(h.getValueAtPercentile(50)),
      p95: ms(h.getValueAtPercentile(95)),
      p99: ms(h.getValueAtPercentile(99)),
      max: ms(h.maxValue),
      mean: ms(h.mean),
    }),
  }
}
