import { createServer } from 'node:net'
import { databaseUri } from '@users-auth/dev-mongo'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { usersApi } from '../src/api.js'
import { client, expectProblem, problemContentType, send, type Response } from '../src/http.js'
import { newEmail, newPassword } from '../src/pair.js'
import { spawnService, type ServiceProcess } from '../src/service-process.js'

// Transport hygiene (ASVS V7/V13/V14): problem+json on every error, no-store on anything
// with tokens, security headers everywhere, nothing internal in a 5xx, CORS closed unless
// configured, and unknown methods and routes answered cleanly.

const pair = inject('pair')
const api = usersApi(pair)
const auth = client(pair.authUrl)
let corsAndDeadAuth: ServiceProcess
let deadMongo: ServiceProcess

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve()
    }),
  )
  if (typeof address !== 'object' || !address) throw new Error('no port')
  return address.port
}

beforeAll(async () => {
  const common = {
    NODE_ENV: 'production',
    INTERNAL_API_TOKEN: pair.credential,
    RATE_LIMIT_IP_MAX: '100000',
    MONGODB_TIMEOUT_MS: '300',
    AUTH_API_DEADLINE_MS: '300',
    AUTH_API_CONNECT_TIMEOUT_MS: '100',
    // Production needs mail settings; an SMTP server that is not there delays mail only.
    SMTP_URL: `smtp://127.0.0.1:${String(await deadPort())}`,
    APP_URL: 'https://app.example',
  }
  ;[corsAndDeadAuth, deadMongo] = await Promise.all([
    spawnService('users-api', {
      env: {
        ...common,
        MONGODB_URI: databaseUri(inject('mongoBaseUri'), `security_cors_${String(Date.now())}`),
        AUTH_API_URL: `http://127.0.0.1:${String(await deadPort())}`,
        CORS_ORIGINS: 'https://app.example',
      },
      logFile: inject('logFile'),
    }),
    spawnService('users-api', {
      env: {
        ...common,
        MONGODB_URI: `mongodb://127.0.0.1:${String(await deadPort())}/nothing`,
        AUTH_API_URL: pair.authUrl,
      },
      logFile: inject('logFile'),
    }),
  ])
})
afterAll(async () => {
  await Promise.all([corsAndDeadAuth.stop(), deadMongo.stop()])
})

function expectSecurityHeaders(res: Response, where: string): void {
  expect(res.headers['x-content-type-options'], where).toBe('nosniff')
  expect(res.headers['x-powered-by'], where).toBeUndefined()
  expect(res.headers.server, where).toBeUndefined()
  expect(res.headers['content-security-policy'], where).toMatch(/default-src 'none'/)
  expect(res.headers['content-security-policy'], where).toMatch(/frame-ancestors 'none'/)
  expect(res.headers['access-control-allow-origin'], where).toBeUndefined()
}

describe('errors', () => {
  it('are problem+json with the contract’s code on both services, whatever failed', async () => {
    const token = (await api.signup('transport')).session.accessToken
    const cases: [Promise<Response>, number, string][] = [
      [api.get('/nope'), 404, 'NOT_FOUND'],
      [api.get('/v1'), 404, 'NOT_FOUND'],
      [api.send({ method: 'PUT', path: '/v1/users/me', token }), 405, 'METHOD_NOT_ALLOWED'],
      [api.send({ method: 'OPTIONS', path: '/v1/auth/login' }), 405, 'METHOD_NOT_ALLOWED'],
      [api.get('/v1/users/me'), 401, 'UNAUTHORIZED'],
      [api.get('/v1/users', token), 403, 'FORBIDDEN'],
      [api.post('/v1/auth/login', {}), 400, 'VALIDATION_FAILED'],
      [api.get('/v1/users/me/sessions/x', token), 405, 'METHOD_NOT_ALLOWED'],
      [
        api.send({
          method: 'POST',
          path: '/v1/auth/login',
          body: 'x=1',
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [api.post('/v1/auth/login', { email: 'a'.repeat(20_000) }), 413, 'PAYLOAD_TOO_LARGE'],
      [auth.get('/nope'), 404, 'NOT_FOUND'],
      [auth.post('/v1/passwords/hash', { password: 'x' }), 401, 'UNAUTHORIZED'],
    ]
    for (const [pending, status, code] of cases) {
      const res = await pending
      expectProblem(res, status, code)
      expectSecurityHeaders(res, `${String(status)} ${code}`)
    }
  })

  it('set Cache-Control: no-store on every /v1 answer, tokens or not', async () => {
    const email = newEmail('nostore')
    const password = newPassword()
    const signup = await api.post('/v1/auth/signup', { email, password })
    const login = await api.post('/v1/auth/login', { email, password })
    const refresh = await api.post('/v1/auth/refresh', {
      refreshToken: login.json<{ refreshToken: string }>().refreshToken,
    })
    const failed = await api.post('/v1/auth/login', { email, password: 'wrong' })
    const me = await api.get('/v1/users/me', login.json<{ accessToken: string }>().accessToken)
    for (const [name, res] of Object.entries({ signup, login, refresh, failed, me })) {
      expect(res.headers['cache-control'], name).toBe('no-store')
    }
    expect([signup.status, login.status, refresh.status]).toEqual([201, 200, 200])
  })

  it('answer 503 with Retry-After and no internals when auth-api or MongoDB is down', async () => {
    const body = { email: newEmail('down'), password: newPassword() }
    for (const service of [corsAndDeadAuth, deadMongo]) {
      for (const res of [
        await send(service.url, { method: 'POST', path: '/v1/auth/login', body }),
        await send(service.url, { method: 'POST', path: '/v1/auth/signup', body }),
        await send(service.url, { path: '/readyz' }),
      ]) {
        const problem = expectProblem(res, 503, 'SERVICE_UNAVAILABLE')
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
        expect(res.text).not.toMatch(
          /ECONNREFUSED|127\.0\.0\.1|mongodb:|Mongo\w*Error|undici|stack|at \w+ \(|\.ts:|node:/i,
        )
        // /readyz adds the state of each dependency, in words (contract: Operational endpoints).
        const { checks, ...rest } = problem as { checks?: Record<string, string> }
        expect(Object.keys(rest).sort()).toEqual(
          ['code', 'detail', 'status', 'title', 'traceId', 'type'].sort(),
        )
        for (const state of Object.values(checks ?? {})) {
          expect(state).toMatch(/^(ok|failing|timed out|credential refused)$/)
        }
        expectSecurityHeaders(res, service.url)
      }
    }
  })
})

describe('headers', () => {
  it('every kind of answer carries nosniff, a strict CSP and no X-Powered-By', async () => {
    for (const res of [
      await api.get('/healthz'),
      await api.get('/readyz'),
      await api.get('/metrics'),
      await api.get('/openapi.json'),
      await api.get('/.well-known/jwks.json'),
      await api.post('/v1/auth/signup', { email: newEmail('hdr'), password: newPassword() }),
      await auth.get('/healthz'),
      await auth.get('/.well-known/jwks.json'),
    ]) {
      expectSecurityHeaders(res, `${String(res.status)} ${res.text.slice(0, 40)}`)
    }
  })

  it('never echoes a hostile X-Request-Id into headers or bodies', async () => {
    for (const id of ['a\u00e9b', 'x'.repeat(500), '<script>alert(1)</script>', 'a b', '../..']) {
      const res = await api.send({ path: '/nope', headers: { 'x-request-id': encodeURI(id) } })
      expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/)
      expect(res.headers['x-request-id']).not.toBe(encodeURI(id))
      expect(res.text).not.toContain('script')
    }
    const kept = await api.send({ path: '/nope', headers: { 'x-request-id': 'trace-123' } })
    expect(kept.headers['x-request-id']).toBe('trace-123')
  })

  it('refuses to be framed or sniffed on the Swagger UI too', async () => {
    const docs = await api.get('/docs/')
    expect(docs.headers['x-content-type-options']).toBe('nosniff')
    expect(docs.headers['content-security-policy']).toBeDefined()
    expect(docs.headers['x-frame-options'] ?? docs.headers['content-security-policy']).toMatch(
      /SAMEORIGIN|DENY|frame-ancestors/i,
    )
  })
})

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    send(url, {
      method: 'OPTIONS',
      path: '/v1/auth/login',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })

  it('is closed by default: no allow-origin for any origin, preflight or not', async () => {
    for (const origin of ['https://evil.example', 'null', pair.usersUrl, 'https://app.example']) {
      const pre = await preflight(pair.usersUrl, origin)
      expect(pre.headers['access-control-allow-origin']).toBeUndefined()
      expect(pre.headers['access-control-allow-credentials']).toBeUndefined()
      const simple = await api.send({ path: '/.well-known/jwks.json', headers: { origin } })
      expect(simple.headers['access-control-allow-origin']).toBeUndefined()
    }
  })

  it('when configured, allows exactly the listed origins and never a wildcard', async () => {
    const allowed = await preflight(corsAndDeadAuth.url, 'https://app.example')
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example')
    expect(allowed.headers.vary).toMatch(/origin/i)
    for (const origin of [
      'https://evil.example',
      'null',
      'https://app.example.evil.example',
      'https://evilapp.example',
      'http://app.example',
      'https://app.example:8443',
    ]) {
      const res = await preflight(corsAndDeadAuth.url, origin)
      expect(res.headers['access-control-allow-origin'], origin).toBeUndefined()
    }
  })
})

describe('methods and routes', () => {
  it('answer unknown routes 404 and known ones with a wrong method 405 with Allow, as problem+json, never a stack or a reflection', async () => {
    for (const [method, path, status, allow] of [
      ['TRACE', '/v1/users/me', 405, 'DELETE, GET, HEAD, PATCH'],
      ['PUT', '/v1/auth/login', 405, 'POST'],
      ['PATCH', '/v1/auth/signup', 405, 'POST'],
      ['DELETE', '/v1/auth/refresh', 405, 'POST'],
      ['GET', '/v1/auth/login', 405, 'POST'],
      ['GET', '/v1/users/me/password', 405, 'POST'],
      ['POST', '/v1/users/me', 405, 'DELETE, GET, HEAD, PATCH'],
      ['GET', '/v1/../../etc/passwd', 404, undefined],
      ['GET', '/%2e%2e/%2e%2e/etc/passwd', 404, undefined],
      ['GET', '/admin', 404, undefined],
      ['GET', '/.env', 404, undefined],
      ['GET', '/v2/users/me', 404, undefined],
    ] as const) {
      const res = await api.send({ method, path, headers: { 'x-probe': 'reflected-value' } })
      expect(res.status, `${method} ${path}`).toBe(status)
      expect(res.headers.allow, `${method} ${path}`).toBe(allow)
      expect(res.headers['content-type']).toBe(problemContentType)
      expect(res.text).not.toContain('reflected-value')
    }
  })

  it('answer HEAD like GET without a body', async () => {
    const res = await api.send({ method: 'HEAD', path: '/healthz' })
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
  })
})
