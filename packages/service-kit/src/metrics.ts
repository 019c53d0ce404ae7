import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

export interface HttpMetricsOptions {
  /** Routes not counted (the scrape itself, probes). */
  ignoredPaths?: string[]
}

/**
 * Per-route request count and latency histogram, plus process metrics, on a registry of the
 * app's own (two apps in one process, as in tests, never share series).
 */
export function registerMetrics(app: FastifyInstance, options: HttpMetricsOptions = {}): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const ignored = new Set(options.ignoredPaths ?? ['/metrics', '/healthz', '/readyz'])
  const labelNames = ['method', 'route', 'status_code'] as const
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    if (!ignored.has(route)) {
      const labels = { method: request.method, route, status_code: String(reply.statusCode) }
      requests.inc(labels)
      duration.observe(labels, reply.elapsedTime / 1000)
    }
    done()
  })

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await registry.metrics()
    return reply.type(registry.contentType).send(body)
  })
  return registry
}
