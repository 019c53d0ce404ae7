import { describe, expect, it } from 'vitest'
import { latencyRecorder } from '../src/histogram.js'

describe('latencyRecorder', () => {
  it('gives percentiles in ms to three significant digits, fractions of a ms kept', () => {
    const recorder = latencyRecorder()
    for (let i = 1; i <= 1000; i++) recorder.record(i / 100) // 0.01 … 10 ms
    const s = recorder.summary()
    expect(s.count).toBe(1000)
    expect(s.p50).toBeCloseTo(5, 2)
    expect(s.p95).toBeCloseTo(9.5, 2)
    expect(s.p99).toBeCloseTo(9.9, 2)
    expect(s.max).toBeCloseTo(10, 2)
    expect(s.mean).toBeCloseTo(5.005, 2)
  })

  it('is empty, with null figures, when nothing was recorded', () => {
    expect(latencyRecorder().summary()).toEqual({
      ...{ count: 0, p50: null, p95: null, p99: null, max: null, mean: null },
    })
  })
})
