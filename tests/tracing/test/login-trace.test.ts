import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolveMongo, type ResolvedMongo } from '@users-auth/dev-mongo'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newEmail, newPassword, startPair, type RunningPair } from '../../security/src/pair.js'
import {
  SpanKind,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../src/otlp-receiver.js'

// One login, sent with a client's traceparent, must come back as one trace across both
// services: users-api's server span, its MongoDB, Redis and auth-api client spans, auth-api's
// server span under that client span, and the argon2 span under it.

const probe = fileURLToPath(new URL('../src/module-probe.mjs', import.meta.url))
const redisUrl = 'redis://127.0.0.1:6379'
const sdkModules = /@opentelemetry\/(sdk-|exporter-|instrumentation)|import-in-the-middle/

let mongo: ResolvedMongo
let dir: string
// What the hooks started, stopped in reverse order whether or not the rest started.
const cleanups: (() => unknown)[] = []
const redisPrefix = `tracing-test-${randomBytes(4).toString('hex')}:`

function traceparent(): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex')
  const parentId = randomBytes(8).toString('hex')
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId }
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

function probeFiles(name: string): { users: string; auth: string } {
  const users = join(dir, `${name}-users.modules`)
  const auth = join(dir, `${name}-auth.modules`)
  writeFileSync(users, '')
  writeFileSync(auth, '')
  return { users, auth }
}

function loadedSdkModules(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((url) => sdkModules.test(url))
}

/** The span's ancestors within the received spans, nearest first. */
function ancestors(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]))
  const chain: ReceivedSpan[] = []
  for (let p = byId.get(span.parentSpanId); p; p = byId.get(p.parentSpanId)) chain.push(p)
  return chain
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracing-test-'))
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  mongo = await resolveMongo()
  cleanups.push(() => mongo.stop())
  // Fails loudly when the machine's Redis is not there (no silent skip).
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true })
  await redis.connect()
  cleanups.push(async () => {
    const keys = await redis.keys(`${redisPrefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
})

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let receiver: OtlpReceiver
  let pair: RunningPair
  let probes: { users: string; auth: string }
  const email = newEmail('traced')
  const password = newPassword('traced')

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    cleanups.push(() => receiver.close())
    probes = probeFiles('traced')
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }
    pair = await startPair({
      mongoBaseUri: mongo.uri,
      usersEnv: {
        ...otel,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: redisPrefix,
        NODE_OPTIONS: `--import=${probe}`,
        MODULE_PROBE_FILE: probes.users,
      },
      authEnv: { ...otel, NODE_OPTIONS: `--import=${probe}`, MODULE_PROBE_FILE: probes.auth },
    })
    cleanups.push(() => pair.stop())
    const signup = await post(`${pair.usersUrl}/v1/auth/signup`, { email, password, name: 'T' })
    expect(signup.status).toBe(201)
    // Let the signup's spans arrive, so the login's can be told apart.
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'argon2.hash'))
  })

  it('loads the SDK in both services before the modules it instruments', () => {
    // A module loaded before the SDK starts is not instrumented (node:http through fastify,
    // whatever the loader), so the order is checked, not only the presence.
    const position = (file: string, pattern: RegExp) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .findIndex((url) => pattern.test(url))
    const sdk = /\/@opentelemetry\/sdk-node\//
    for (const [file, instrumented] of [
      [probes.users, [/\/fastify\//, /\/mongoose\//, /\/ioredis\//, /\/undici\//]],
      [probes.auth, [/\/fastify\//]],
    ] as const) {
      const started = position(file, sdk)
      expect(started, file).toBeGreaterThanOrEqual(0)
      for (const module of instrumented) {
        expect(position(file, module), String(module)).toBeGreaterThan(started)
      }
    }
  })

  it("makes one login one trace across both services, under the client's traceparent", async () => {
    const client = traceparent()
    const login = await post(
      `${pair.usersUrl}/v1/auth/login`,
      { email, password },
      { traceparent: client.header },
    )
    expect(login.status).toBe(200)

    const inTrace = (spans: ReceivedSpan[]) => spans.filter((s) => s.traceId === client.traceId)
    const spans = inTrace(
      await receiver.waitFor((all) => {
        const mine = inTrace(all)
        return (
          mine.some((s) => s.name === 'argon2.verify') &&
          mine.some((s) => s.service === 'users-api' && s.kind === SpanKind.server) &&
          mine.some((s) => s.service === 'auth-api' && s.kind === SpanKind.server)
        )
      }),
    )

    // users-api's server span continues the client's trace, under the client's span.
    const usersServer = spans.filter((s) => s.service === 'users-api' && s.kind === SpanKind.server)
    expect(usersServer).toHaveLength(1)
    const root = usersServer[0]!
    expect(root.parentSpanId).toBe(client.parentId)
    const underRoot = (s: ReceivedSpan) => ancestors(s, spans).includes(root)

    // Its MongoDB, Redis and auth-api calls are children of that request.
    const mongoSpans = spans.filter((s) => s.scope.includes('mongodb'))
    const redisSpans = spans.filter((s) => s.scope.includes('ioredis'))
    const authCalls = spans.filter((s) => s.scope.includes('undici') && s.kind === SpanKind.client)
    expect(mongoSpans.length).toBeGreaterThan(0)
    expect(redisSpans.length).toBeGreaterThan(0)
    expect(authCalls.length).toBeGreaterThan(0)
    for (const s of [...mongoSpans, ...redisSpans, ...authCalls]) {
      expect(s.service).toBe('users-api')
      expect(underRoot(s), `${s.name} under the users-api request`).toBe(true)
    }
    // No Redis key (accounts, addresses) in a span: the command alone.
    for (const s of redisSpans) {
      expect(
        String(s.attributes['db.statement'] ?? s.attributes['db.query.text'] ?? ''),
      ).not.toContain(redisPrefix)
    }

    // Across the hop: each auth-api server span's parent is one of users-api's client spans.
    const authServer = spans.filter((s) => s.service === 'auth-api' && s.kind === SpanKind.server)
    expect(authServer.length).toBe(authCalls.length)
    const callIds = new Set(authCalls.map((s) => s.spanId))
    for (const s of authServer) expect(callIds.has(s.parentSpanId)).toBe(true)

    // argon2 inside auth-api's handling of the verify call.
    const argon2 = spans.filter((s) => s.name === 'argon2.verify')
    expect(argon2).toHaveLength(1)
    expect(argon2[0]!.service).toBe('auth-api')
    expect(argon2[0]!.events).toContain('dequeued')
    const argon2Chain = ancestors(argon2[0]!, spans)
    expect(argon2Chain.some((s) => authServer.includes(s))).toBe(true)
    expect(argon2Chain).toContain(root)

    // Nothing of this login went into another trace: the run's only verify is in it.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const verifies = receiver.spans.filter((s) => s.name === 'argon2.verify')
    expect(verifies.map((s) => s.traceId)).toEqual([client.traceId])
  })

  it("puts the trace's id in a problem body", async () => {
    const client = traceparent()
    const wrong = await post(
      `${pair.usersUrl}/v1/auth/login`,
      { email, password: `${password} wrong` },
      { traceparent: client.header },
    )
    expect(wrong.status).toBe(401)
    expect(wrong.body.traceId).toBe(client.traceId)

    // Without a traceparent the service starts a trace; the body names it.
    const fresh = await post(`${pair.usersUrl}/v1/auth/login`, { email: 'not-an-email' })
    expect(fresh.status).toBe(400)
    const traceId = String(fresh.body.traceId)
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    await receiver.waitFor((all) =>
      all.some(
        (s) => s.traceId === traceId && s.service === 'users-api' && s.kind === SpanKind.server,
      ),
    )
  })
})

describe('with OTEL_EXPORTER_OTLP_ENDPOINT unset', () => {
  let pair: RunningPair
  let probes: { users: string; auth: string }

  beforeAll(async () => {
    probes = probeFiles('untraced')
    pair = await startPair({
      mongoBaseUri: mongo.uri,
      usersEnv: { NODE_OPTIONS: `--import=${probe}`, MODULE_PROBE_FILE: probes.users },
      authEnv: { NODE_OPTIONS: `--import=${probe}`, MODULE_PROBE_FILE: probes.auth },
    })
    cleanups.push(() => pair.stop())
  })

  it('loads no SDK module and keeps the request id as the problem traceId', async () => {
    const email = newEmail('untraced')
    const password = newPassword('untraced')
    const client = traceparent()
    expect(
      (await post(`${pair.usersUrl}/v1/auth/signup`, { email, password, name: 'U' })).status,
    ).toBe(201)
    const wrong = await post(
      `${pair.usersUrl}/v1/auth/login`,
      { email, password: `${password} wrong` },
      { traceparent: client.header, 'x-request-id': 'untraced-login-1' },
    )
    expect(wrong.status).toBe(401)
    expect(wrong.body.traceId).toBe('untraced-login-1')

    // The probe saw the services' own modules, and none of the SDK's.
    expect(readFileSync(probes.users, 'utf8')).toContain('create-users-api')
    expect(readFileSync(probes.auth, 'utf8')).toContain('create-auth-api')
    expect(loadedSdkModules(probes.users)).toEqual([])
    expect(loadedSdkModules(probes.auth)).toEqual([])
  })
})
