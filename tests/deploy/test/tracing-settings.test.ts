// Tracing in the deployment artefacts: compose sends both services' spans to its Jaeger, and the
// chart's otel.endpoint reaches both components' environment and opens their egress to the
// collector, and only to it; without it nothing about tracing is rendered.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { describe, expect, test } from 'vitest'
import { render } from '../src/helm.js'
import { validateObject } from '../src/models.js'
import { fromRoot } from '../src/repo.js'
import { named, ofKind } from '../src/select.js'

interface Service {
  image?: string
  networks?: string[]
  environment?: Record<string, string>
  healthcheck?: { test: string[] }
}
const compose = parse(readFileSync(fromRoot('docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>
  networks: Record<string, { internal?: boolean } | null>
}

describe('docker-compose.yml', () => {
  test('runs Jaeger all-in-one and points both services at its OTLP/HTTP port', () => {
    const jaeger = compose.services.jaeger!
    expect(jaeger.image).toMatch(/^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/)
    expect(jaeger.healthcheck?.test[0]).toBe('CMD')
    for (const name of ['users-api', 'auth-api']) {
      const service = compose.services[name]!
      expect(service.environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://jaeger:4318')
      // They reach it over an internal network they share with it.
      const shared = (service.networks ?? []).filter((n) => jaeger.networks?.includes(n))
      expect(
        shared.some((n) => compose.networks[n]?.internal),
        name,
      ).toBe(true)
    }
  })
})

describe('chart otel settings', () => {
  const endpoint = 'http://jaeger-collector.tracing:4318'
  const collector = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'tracing' } },
  }

  test('otel.endpoint reaches both components and opens egress to the collector only', async () => {
    const objects = render({
      values: { otel: { endpoint }, networkPolicy: { otel: { to: [collector] } } },
    })
    for (const o of objects) {
      expect(await validateObject(o), `${o.kind}/${o.metadata.name}`).toEqual([])
    }
    for (const name of ['users-api', 'auth-api']) {
      const config = named(objects, 'ConfigMap', `users-auth-${name}`)
      expect(config.data?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe(endpoint)
      const policy = named(objects, 'NetworkPolicy', `users-auth-${name}`)
      const egress = policy.spec?.egress ?? []
      const toCollector = egress.filter((rule) => rule.ports?.some((p) => p.port === 4318))
      expect(toCollector, name).toHaveLength(1)
      expect(toCollector[0]!.to, name).toEqual([collector])
    }
  })

  test('without otel.endpoint nothing is rendered for tracing and auth-api keeps no egress', () => {
    const objects = render()
    for (const config of ofKind(objects, 'ConfigMap')) {
      expect(Object.keys(config.data ?? {}).filter((k) => k.startsWith('OTEL_'))).toEqual([])
    }
    expect(named(objects, 'NetworkPolicy', 'users-auth-auth-api').spec?.egress).toEqual([])
  })
})
