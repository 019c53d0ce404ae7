import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One received span, flattened from OTLP/JSON (ids as lowercase hex). */
export interface ReceivedSpan {
  service: string
  scope: string
  name: string
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number
  traceId: string
  spanId: string
  parentSpanId: string
  attributes: Record<string, string | number | boolean>
  events: string[]
}

export const SpanKind = { internal: 1, server: 2, client: 3 } as const

interface AnyValue {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
}
interface KeyValue {
  key: string
  value: AnyValue
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] }
    scopeSpans?: {
      scope?: { name?: string }
      spans?: {
        name: string
        kind: number
        traceId: string
        spanId: string
        parentSpanId?: string
        attributes?: KeyValue[]
        events?: { name: string }[]
      }[]
    }[]
  }[]
}

function plain(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  return value.boolValue ?? ''
}

function attributesOf(list: KeyValue[] = []): Record<string, string | number | boolean> {
  return Object.fromEntries(list.map((kv) => [kv.key, plain(kv.value)]))
}

// OTLP/JSON writes ids as hex; accept base64 too, as some exporters send that.
function hexId(id: string | undefined): string {
  if (!id) return ''
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex')
}

export function flattenTraces(body: OtlpTraces): ReceivedSpan[] {
  const spans: ReceivedSpan[] = []
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '')
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          service,
          scope: scopeSpans.scope?.name ?? '',
          name: span.name,
          kind: span.kind,
          traceId: hexId(span.traceId),
          spanId: hexId(span.spanId),
          parentSpanId: hexId(span.parentSpanId),
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((e) => e.name),
        })
      }
    }
  }
  return spans
}

export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter appends `/v1/traces`). */
  readonly endpoint: string
  readonly spans: ReceivedSpan[]
  /** Every request that reached the receiver, spans or not. */
  readonly requests: number
  /** Resolves with the spans once `done` holds for them; rejects with what came after the bound. */
  waitFor(done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>
  close(): Promise<void>
}

/**
 * A local OTLP/HTTP trace receiver: accepts the JSON that `@opentelemetry/exporter-trace-otlp-http`
 * posts to `/v1/traces` and keeps the spans in memory.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  let requests = 0
  const server: Server = createServer((req, res) => {
    requests += 1
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const type = req.headers['content-type'] ?? ''
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !type.includes('json')) {
        res.writeHead(415).end()
        return
      }
      try {
        spans.push(
          ...flattenTraces(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpTraces),
        )
      } catch {
        res.writeHead(400).end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    get requests() {
      return requests
    },
    async waitFor(done, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (!done(spans)) {
        if (Date.now() > deadline) {
          const seen = spans.map((s) => `${s.service} ${s.name} ${s.traceId}`).join('\n')
          throw new Error(`spans not received within ${timeoutMs} ms; received:\n${seen}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      return spans
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}
