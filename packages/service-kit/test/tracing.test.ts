import { describe, expect, it } from 'vitest'
import { startTracing, tracingEnabled } from '../src/tracing.js'

describe('tracingEnabled', () => {
  it('is on only with an OTLP endpoint, and off when the SDK is disabled', () => {
    expect(tracingEnabled({})).toBe(false)
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false)
    expect(tracingEnabled({ OTEL_SERVICE_NAME: 'users-api' })).toBe(false)
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true)
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(
      true,
    )
    expect(
      tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }),
    ).toBe(false)
  })
})

describe('startTracing', () => {
  it('starts nothing without an endpoint', async () => {
    await expect(startTracing({}, 'users-api')).resolves.toBeUndefined()
  })
})
