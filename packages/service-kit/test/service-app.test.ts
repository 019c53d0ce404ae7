import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from 'typebox'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  createLogger,
  createServiceApp,
  NotReadyState,
  problemError,
  withRetryAfter,
  type ReadinessCheck,
  type ServiceApp,
} from '../src/index.js'
import { captureLogs } from '../src/index.js'

const EmailTaken = problemError('EMAIL_TAKEN', 'An account with this email already exists.')
const Unavailable = problemError('SERVICE_UNAVAILABLE', 'A dependency is down.')
const RateLimited = problemError('RATE_LIMITED', 'Too many attempts; retry later.')

/** Errors that look like ours but are not: another service's answer, a library's error. */
class ForeignAnswer extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly statusCode?: number,
  ) {
    super(message)
  }
}

let current: ServiceApp | undefined
const logs = captureLogs()

class DriverDown extends Error {}
/** A dependency at capacity, as a client reports it. */
class AtCapacity extends Error {
  readonly loadShedding = true
}

/** Called when /v1/slow starts its work. */
let slowArrived: () => void = () => undefined
/** What happened during a close, in order. */
const closeEvents: string[] = []

async function build(
  readiness: ReadinessCheck[] = [],
  closeDependencies?: () => void,
): Promise<ServiceApp> {
  const logger = createLogger({ level: 'info', stream: logs.stream })
  const service = await createServiceApp({
    logger,
    openapi: { title: 'kit-test', version: '1.0.0' },
    readiness,
    errorMappers: [
      (e) =>
        e instanceof DriverDown || e instanceof AtCapacity
          ? withRetryAfter(new Unavailable(), 3)
          : undefined,
    ],
  })
  const { app } = service
  app.post(
    '/v1/echo',
    {
      schema: {
        body: Type.Object(
          { email: Type.String({ format: 'email' }), count: Type.Optional(Type.Integer()) },
          { additionalProperties: false },
        ),
      },
    },
    (request) => request.body,
  )
  app.get('/v1/items/:id', (request) => request.params)
  app.get(
    '/v1/items',
    { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100 }) }) } },
    (request) => request.query,
  )
  app.post('/v1/taken', () => {
    throw new EmailTaken()
  })
  app.post('/v1/down', () => {
    throw withRetryAfter(new Unavailable(), 7)
  })
  app.get('/v1/driver-down', () => {
    throw new DriverDown('connect ECONNREFUSED 10.1.2.3:27017')
  })
  app.get('/v1/foreign/:kind', (request) => {
    const { kind } = request.params as { kind: string }
    if (kind === 'rate-limited')
      throw new ForeignAnswer('auth-api said RATE_LIMITED', 'RATE_LIMITED')
    if (kind === 'unauthorized') {
      throw new ForeignAnswer('auth-api rejected the request with 401', 'UNAUTHORIZED', 401)
    }
    if (kind === 'status-only') {
      throw Object.assign(new Error('a library gave up with 401'), { statusCode: 401 })
    }
    throw new ForeignAnswer('looks like Fastify', 'FST_ERR_CTP_BODY_TOO_LARGE', 413)
  })
  app.get(
    '/v1/limited',
    {
      // What a rate limiter does: it answers from a hook with an error built from our catalogue.
      onRequest: (_request, _reply, done) => {
        done(withRetryAfter(new RateLimited(), 42))
      },
    },
    () => ({ never: true }),
  )
  app.get('/v1/at-capacity', () => {
    throw new AtCapacity('the hashing queue is full')
  })
  app.get('/v1/boom', () => {
    throw new Error('driver said: connection to 10.0.0.7 refused, password=hunter2')
  })
  app.post('/v1/login', (request) => {
    request.log.info({ body: request.body, headers: request.headers }, 'login attempt')
    return { ok: true }
  })
  app.get('/v1/slow', async () => {
    slowArrived()
    await sleep(300)
    return { done: true }
  })
  if (closeDependencies) {
    app.addHook('onResponse', (request, _reply, done) => {
      closeEvents.push(`answered ${request.url}`)
      done()
    })
    // Where a service closes its pools and clients.
    app.addHook('onClose', (_instance, done) => {
      closeDependencies()
      done()
    })
  }
  await app.ready()
  current = service
  return service
}

afterEach(async () => {
  await current?.app.close()
  current = undefined
})

function expectProblem(
  res: { headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
) {
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
  const body = res.json() as Record<string, unknown>
  expect(body).toMatchObject({ status, code })
  expect(typeof body.type).toBe('string')
  expect(typeof body.title).toBe('string')
  expect(typeof body.detail).toBe('string')
  expect(typeof body.traceId).toBe('string')
  return body
}

describe('problem+json rendering', () => {
  it('maps schema failures to 400 VALIDATION_FAILED with JSON Pointer paths', async () => {
    const { app } = await build()
    const res = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: { email: 'x@y.z', role: 'admin' },
    })
    expect(res.statusCode).toBe(400)
    const body = expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([{ path: '/role', message: 'is not an allowed field' }])
  })

  it('does not coerce body types but does coerce query strings', async () => {
    const { app } = await build()
    const wrongType = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: { email: 'x@y.z', count: '3' },
    })
    expectProblem(wrongType, 400, 'VALIDATION_FAILED')
    const query = await app.inject({ method: 'GET', url: '/v1/items?limit=5' })
    expect(query.json()).toEqual({ limit: 5 })
    const badQuery = await app.inject({ method: 'GET', url: '/v1/items?limit=500' })
    const body = expectProblem(badQuery, 400, 'VALIDATION_FAILED')
    expect(JSON.stringify(body.errors)).toContain('/query')
  })

  it('rejects operator objects where a string is expected', async () => {
    const { app } = await build()
    const res = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: { email: { $ne: null } },
    })
    expectProblem(res, 400, 'VALIDATION_FAILED')
  })

  it('maps malformed JSON, prototype poisoning, wrong media type and oversized bodies', async () => {
    const { app } = await build()
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    })
    expectProblem(malformed, 400, 'VALIDATION_FAILED')
    const poisoned = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"x@y.z","__proto__":{"admin":true}}',
    })
    expectProblem(poisoned, 400, 'VALIDATION_FAILED')
    const text = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    })
    expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE')
    const big = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'x@y.z', pad: 'a'.repeat(17 * 1024) }),
    })
    expectProblem(big, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('refuses a body that names a field twice, saying which', async () => {
    const { app } = await build()
    const res = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"x@y.z","email":"other@y.z"}',
    })
    const body = expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([{ path: '/email', message: 'appears more than once' }])
  })

  it('answers requests Fastify refuses before routing with problem+json too', async () => {
    const { app } = await build()
    for (const url of ['/v1/items/%zz', `/v1/items/${'x'.repeat(200)}`]) {
      const res = await app.inject({ method: 'GET', url })
      expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.body).not.toContain('xxxxxxxx')
    }
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = new URL(address)
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('FOO / HTTP/1.1\r\nHost: x\r\n\r\n')
      })
      let data = ''
      socket.on('data', (chunk: Buffer) => (data += chunk.toString()))
      socket.on('end', () => {
        resolve(data)
      })
      socket.on('error', reject)
    })
    expect(raw).toMatch(/^HTTP\/1\.1 400 /)
    expect(raw).toContain('content-type: application/problem+json; charset=utf-8')
    expect(raw).toContain('"code":"VALIDATION_FAILED"')
  })

  it('renders catalogue errors with their status and Retry-After when given', async () => {
    const { app } = await build()
    const taken = await app.inject({ method: 'POST', url: '/v1/taken' })
    expect(expectProblem(taken, 409, 'EMAIL_TAKEN').detail).toBe(
      'An account with this email already exists.',
    )
    const down = await app.inject({ method: 'POST', url: '/v1/down' })
    expectProblem(down, 503, 'SERVICE_UNAVAILABLE')
    expect(down.headers['retry-after']).toBe('7')
  })

  it('lets the service map dependency errors onto catalogue errors', async () => {
    const { app } = await build()
    const res = await app.inject({ method: 'GET', url: '/v1/driver-down' })
    expectProblem(res, 503, 'SERVICE_UNAVAILABLE')
    expect(res.headers['retry-after']).toBe('3')
    expect(res.body).not.toContain('10.1.2.3')
  })

  it('logs a dependency failure with its cause, and shed load at most once per interval', async () => {
    const { app } = await build()
    const linesWith = (text: string) => logs.lines().filter((line) => line.includes(text))
    const failures = linesWith('dependency failure').length
    await app.inject({ method: 'GET', url: '/v1/driver-down' })
    expect(linesWith('dependency failure').slice(failures)).toHaveLength(1)

    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const shedLines = () =>
        linesWith('shedding load')
          .slice(before)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      const before = linesWith('shedding load').length
      const shedFive = async () => {
        for (let i = 0; i < 5; i++) {
          const res = await app.inject({ method: 'GET', url: '/v1/at-capacity' })
          expectProblem(res, 503, 'SERVICE_UNAVAILABLE')
          expect(res.headers['retry-after']).toBe('3')
        }
      }
      // The first refusal after a quiet interval is logged at once, the rest of the burst when
      // the interval ends; an interval without refusals writes nothing.
      await shedFive()
      expect(shedLines()).toMatchObject([
        { level: 40, shed: 1, reason: 'the hashing queue is full' },
      ])
      vi.advanceTimersByTime(10_001)
      expect(shedLines()).toMatchObject([{ shed: 1 }, { level: 40, shed: 4 }])
      vi.advanceTimersByTime(10_001)
      expect(shedLines()).toHaveLength(2)
      await shedFive()
      expect(shedLines()).toMatchObject([{ shed: 1 }, { shed: 4 }, { shed: 1 }])
      // What is still counted when the app closes is written then.
      await app.close()
      expect(shedLines()).toMatchObject([{ shed: 1 }, { shed: 4 }, { shed: 1 }, { shed: 4 }])
      expect(shedLines()[0]).not.toHaveProperty('err')
      expect(linesWith('dependency failure').slice(failures)).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('answers unknown routes with 404 NOT_FOUND', async () => {
    const { app } = await build()
    const res = await app.inject({ method: 'GET', url: '/nope?x=1' })
    expectProblem(res, 404, 'NOT_FOUND')
  })

  it('hides internals of unexpected errors but logs them', async () => {
    const { app } = await build()
    const res = await app.inject({ method: 'GET', url: '/v1/boom' })
    const body = expectProblem(res, 500, 'INTERNAL')
    expect(res.body).not.toContain('10.0.0.7')
    expect(res.body).not.toContain('stack')
    expect(body.traceId).toBe(res.headers['x-request-id'])
    expect(logs.text()).toContain('driver said')
  })
})

describe('trusting only our own errors', () => {
  it('renders a foreign error with a catalogue code or a status as a logged 500', async () => {
    const { app } = await build()
    for (const kind of ['rate-limited', 'unauthorized', 'status-only', 'fastify-lookalike']) {
      const res = await app.inject({ method: 'GET', url: `/v1/foreign/${kind}` })
      const body = expectProblem(res, 500, 'INTERNAL')
      expect(res.statusCode, kind).toBe(500)
      expect(body.detail).toBe('An unexpected error occurred.')
      expect(res.body).not.toMatch(/auth-api|library|Fastify/)
      expect(res.headers['retry-after']).toBeUndefined()
    }
    const failures = logs
      .lines()
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
      .filter((l) => l.msg === 'request failed')
    expect(failures.map((l) => l.err?.message)).toEqual(
      expect.arrayContaining([
        'auth-api said RATE_LIMITED',
        'auth-api rejected the request with 401',
        'a library gave up with 401',
      ]),
    )
    expect(failures.every((l) => l.level === 50)).toBe(true)
  })

  it('still answers a limiter’s catalogue error with 429 and its Retry-After', async () => {
    const { app } = await build()
    const res = await app.inject({ method: 'GET', url: '/v1/limited' })
    expectProblem(res, 429, 'RATE_LIMITED')
    expect(res.headers['retry-after']).toBe('42')
  })
})

describe('small answers that do not mislead', () => {
  it('says where a body stops being JSON, without quoting it', async () => {
    const { app } = await build()
    for (const [payload, where] of [
      ['{"email":', 'line 1, column 10 (offset 9)'],
      ['{"email": "a@b.c",\n "password": hunter2}', 'line 2, column 14 (offset 32)'],
      ['[1,]', 'line 1, column 4 (offset 3)'],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/echo',
        headers: { 'content-type': 'application/json' },
        payload,
      })
      const body = expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(body.detail).toBe('The request body is not valid JSON.')
      const errors = body.errors as { path: string; message: string }[]
      expect(errors).toHaveLength(1)
      expect(errors[0]?.path).toBe('')
      expect(errors[0]?.message).toContain(where)
      expect(res.body).not.toContain('hunter2')
    }
  })

  it('refuses deep nesting before any parser runs, malformed or not', async () => {
    const { app } = await build()
    for (const payload of ['['.repeat(8000), `${'['.repeat(40)}${']'.repeat(40)}`]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/echo',
        headers: { 'content-type': 'application/json' },
        payload,
      })
      const body = expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(body.errors).toEqual([{ path: '', message: 'nests deeper than 32 levels' }])
    }
  })

  it('never reads a body sent to no route (404, 405)', async () => {
    const { app } = await build()
    const before = logs.text().length
    const deep = '['.repeat(8000)
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/nope',
      headers: { 'content-type': 'application/json' },
      payload: deep,
    })
    expectProblem(unknown, 404, 'NOT_FOUND')
    const wrongMethod = await app.inject({
      method: 'PUT',
      url: '/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":1,"a":2}',
    })
    expectProblem(wrongMethod, 405, 'METHOD_NOT_ALLOWED')
    expect(logs.text().slice(before)).not.toContain('request failed')
  })

  it('escapes field names in error paths as JSON Pointers', async () => {
    const { app } = await build()
    const res = await app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: { email: 'x@y.z', 'a/b~c': 1 },
    })
    const body = expectProblem(res, 400, 'VALIDATION_FAILED')
    expect(body.errors).toEqual([{ path: '/a~1b~0c', message: 'is not an allowed field' }])
  })

  it('answers a known path with a wrong method 405 with Allow', async () => {
    const { app } = await build()
    const res = await app.inject({ method: 'DELETE', url: '/v1/items/42' })
    const body = expectProblem(res, 405, 'METHOD_NOT_ALLOWED')
    expect(body.title).toBe('Method Not Allowed')
    expect(res.headers.allow).toBe('GET, HEAD')
    const echo = await app.inject({ method: 'GET', url: '/v1/echo?x=1' })
    expectProblem(echo, 405, 'METHOD_NOT_ALLOWED')
    expect(echo.headers.allow).toBe('POST')
    expectProblem(await app.inject({ method: 'DELETE', url: '/v1/nowhere' }), 404, 'NOT_FOUND')
  })
})

describe('request ids', () => {
  it('accepts a plain incoming id, returns it and logs it', async () => {
    const { app } = await build()
    const res = await app.inject({
      method: 'GET',
      url: '/v1/items?limit=1',
      headers: { 'x-request-id': 'abc-123' },
    })
    expect(res.headers['x-request-id']).toBe('abc-123')
    expect(
      logs.lines().some((l) => (JSON.parse(l) as { requestId?: string }).requestId === 'abc-123'),
    ).toBe(true)
  })

  it('logs one line per request, with method, path without query, status and time', async () => {
    const { app } = await build()
    await app.inject({
      method: 'GET',
      url: '/v1/items?limit=1&secret=s3cr3t',
      headers: { 'x-request-id': 'one-line-1', 'user-agent': 'kit-test' },
    })
    const lines = logs
      .lines()
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.requestId === 'one-line-1')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      req: { method: 'GET', path: '/v1/items', userAgent: 'kit-test' },
      res: { statusCode: 200 },
    })
    expect(lines[0]?.responseTime).toEqual(expect.any(Number))
    expect(JSON.stringify(lines)).not.toContain('s3cr3t')
  })

  it('replaces a missing or hostile id with a generated one', async () => {
    const { app } = await build()
    const none = await app.inject({ method: 'GET', url: '/v1/items?limit=1' })
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const hostile = await app.inject({
      method: 'GET',
      url: '/v1/items?limit=1',
      headers: { 'x-request-id': 'a b\tinjected' },
    })
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('logging', () => {
  it('redacts credentials, passwords and tokens wherever they are logged', async () => {
    const { app } = await build()
    await app.inject({
      method: 'POST',
      url: '/v1/login',
      headers: { authorization: 'Bearer sekret-credential-value', cookie: 'sid=cookie-value' },
      payload: {
        email: 'a@b.c',
        password: 'correct horse battery staple',
        refreshToken: 'refresh-value',
      },
    })
    const text = logs.text()
    expect(text).toContain('login attempt')
    for (const secret of [
      'sekret-credential-value',
      'cookie-value',
      'correct horse',
      'refresh-value',
    ]) {
      expect(text).not.toContain(secret)
    }
  })
})

describe('headers', () => {
  it('sets nosniff and sends no X-Powered-By', async () => {
    const { app } = await build()
    const res = await app.inject({ method: 'GET', url: '/healthz' })
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['x-powered-by']).toBeUndefined()
  })
})

describe('health and readiness', () => {
  it('answers /healthz whatever the dependencies do', async () => {
    const { app } = await build([{ name: 'db', check: () => Promise.reject(new Error('down')) }])
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })

  it('is ready only when every check passes, and names each check’s state', async () => {
    let dbUp = false
    const { app } = await build([
      {
        name: 'db',
        check: () =>
          dbUp ? Promise.resolve() : Promise.reject(new Error('connect 10.0.0.9 password=x')),
      },
      { name: 'keys', check: () => Promise.resolve() },
      { name: 'peer', check: () => Promise.reject(new NotReadyState('credential refused')) },
    ])
    const notReady = await app.inject({ method: 'GET', url: '/readyz' })
    const body = expectProblem(notReady, 503, 'SERVICE_UNAVAILABLE')
    expect(body.detail).toContain('db')
    expect(body.checks).toEqual({ db: 'failing', keys: 'ok', peer: 'credential refused' })
    expect(notReady.body).not.toMatch(/10\.0\.0\.9|password/)
    expect(notReady.headers['retry-after']).toBeDefined()
    await current?.app.close()
    dbUp = true
    const ready = await (
      await build([
        { name: 'db', check: () => Promise.resolve() },
        { name: 'keys', check: () => Promise.resolve() },
      ])
    ).app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toEqual({ status: 'ok', checks: { db: 'ok', keys: 'ok' } })
  })
})

describe('metrics', () => {
  it('counts requests by route and status and exposes process metrics', async () => {
    const { app } = await build()
    await app.inject({ method: 'GET', url: '/v1/items?limit=2' })
    await app.inject({ method: 'POST', url: '/v1/taken' })
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toMatch(
      /http_requests_total\{method="GET",route="\/v1\/items",status_code="200"\} 1/,
    )
    expect(res.body).toMatch(
      /http_request_duration_seconds_bucket\{.*route="\/v1\/taken",status_code="409"/,
    )
    expect(res.body).toContain('process_cpu_seconds_total')
  })
})

describe('openapi', () => {
  it('serves the generated document and the UI', async () => {
    const { app } = await build()
    const doc = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(doc.json<{ paths: Record<string, unknown> }>().paths).toHaveProperty('/v1/echo')
    expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200)
  })
})

describe('shutdown', () => {
  it('finishes in-flight requests and refuses new ones while closing', async () => {
    const { app } = await build()
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const reached = new Promise<void>((resolve) => {
      slowArrived = resolve
    })
    const inFlight = fetch(`${address}/v1/slow`)
    await reached
    const closed = app.close()
    const res = await inFlight
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ done: true })
    await closed
    current = undefined
    await expect(fetch(`${address}/healthz`)).rejects.toThrow()
  })

  it('answers a request that was still arriving when the close began, not 503', async () => {
    const { app } = await build()
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const socket = connect(Number(new URL(address).port), '127.0.0.1')
    await once(socket, 'connect')
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    const ended = once(socket, 'end')
    // Half a request head: the connection is busy, so the close waits for it.
    socket.write('GET /v1/items?limit=1 HTTP/1.1\r\nHost: x\r\n')
    await sleep(300)
    const closed = app.close()
    await sleep(50)
    socket.write('\r\n')
    await ended
    await closed
    current = undefined
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer.toLowerCase()).toContain('connection: close')
  })

  it('closes dependencies (onClose) only after every request in flight is answered', async () => {
    closeEvents.length = 0
    const { app } = await build([], () => closeEvents.push('dependencies closed'))
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const reached = new Promise<void>((resolve) => {
      slowArrived = resolve
    })
    const inFlight = Promise.all(
      [1, 2, 3].map(() => fetch(`${address}/v1/slow`).then((r) => r.status)),
    )
    await reached
    await sleep(20)
    const closed = app.close()
    expect(await inFlight).toEqual([200, 200, 200])
    await closed
    current = undefined
    expect(closeEvents).toEqual([
      'answered /v1/slow',
      'answered /v1/slow',
      'answered /v1/slow',
      'dependencies closed',
    ])
  })
})
