import { describe, expect, it } from 'vitest'
import { LatencyRecorder, percentile } from '../src/latency.js'

describe('percentile', () => {
  it('takes the nearest rank of ascending values', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 95)).toBe(95)
    expect(percentile(values, 99)).toBe(99)
    expect(percentile(values, 100)).toBe(100)
  })

  it('is null without values and the value itself for one', () => {
    expect(percentile(new Float64Array(0), 50)).toBeNull()
    expect(percentile(Float64Array.of(7.5), 99)).toBe(7.5)
  })
})

describe('LatencyRecorder', () => {
  it('keeps fractions of a millisecond and sorts before summarising', () => {
    const recorder = new LatencyRecorder()
    for (const ms of [3.25, 1.5, 2.75, 0.5]) recorder.record(ms)
    const summary = recorder.summary()
    expect(summary.count).toBe(4)
    expect(summary.p50).toBe(1.5)
    expect(summary.p99).toBe(3.25)
    expect(summary.max).toBe(3.25)
    expect(summary.mean).toBe(2)
  })

  it('grows past its first buffer and stops at its bound', () => {
    const recorder = new LatencyRecorder(5000)
    for (let i = 0; i < 6000; i++) recorder.record(i)
    expect(recorder.count).toBe(5000)
    expect(recorder.summary().max).toBe(4999)
  })
})
