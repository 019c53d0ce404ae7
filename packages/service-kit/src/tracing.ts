import type { IncomingMessage } from 'node:http'

/** A started OpenTelemetry SDK; `shutdown` exports the spans still buffered. */
export interface Tracing {
  shutdown(): Promise<void>
}

// Probes and scrapes arrive every few seconds and say nothing about a user's request.
const untracedPaths = new Set(['/healthz', '/readyz', '/metrics'])

function untraced(request: IncomingMessage): boolean {
  const path = (request.url ?? '').split('?', 1)[0] ?? ''
  return untracedPaths.has(path)
}

/** Tracing is on when an OTLP endpoint is configured and the SDK is not disabled. */
export function tracingEnabled(env: NodeJS.ProcessEnv): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true'
}

/**
 * Starts the OpenTelemetry Node SDK: spans of incoming and outgoing HTTP (node:http, undici),
 * MongoDB and ioredis, exported as OTLP/HTTP JSON to `OTEL_EXPORTER_OTLP_ENDPOINT`, W3C trace
 * context propagated. Call it before anything that loads the instrumented modules, and import
 * the rest of the service afterwards (dynamically): a module loaded earlier is not traced.
 *
 * Without an endpoint it returns undefined and loads nothing: the SDK costs nothing then. The
 * SDK reads the other standard variables itself (`OTEL_SERVICE_NAME`, `OTEL_BSP_*`, sampler).
 */
export async function startTracing(
  env: NodeJS.ProcessEnv,
  defaultServiceName: string,
): Promise<Tracing | undefined> {
  if (!tracingEnabled(env)) return undefined

  // ESM imports (ioredis from our own modules) are only seen through a loader hook; the
  // message channel limits the hook to the modules the instrumentations ask for.
  const { register } = await import('node:module')
  const { createAddHookMessageChannel } = await import('import-in-the-middle')
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel()
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions)

  const [sdkNode, otlp, http, undici, mongodb, ioredis] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-mongodb'),
    import('@opentelemetry/instrumentation-ioredis'),
  ])
  const sdk = new sdkNode.NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || defaultServiceName,
    traceExporter: new otlp.OTLPTraceExporter(),
    // Traces only: metrics are served on /metrics and logs go to stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new http.HttpInstrumentation({ ignoreIncomingRequestHook: untraced }),
      new undici.UndiciInstrumentation(),
      // Statements are recorded with their values replaced (the default), never in full.
      new mongodb.MongoDBInstrumentation(),
      // Redis keys name accounts and addresses: record the command alone.
      new ioredis.IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
  })
  sdk.start()
  await waitForAllMessagesAcknowledged()
  return { shutdown: () => sdk.shutdown() }
}
