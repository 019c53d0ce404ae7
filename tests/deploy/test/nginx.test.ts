// deploy/nginx, run by Debian's real nginx in front of the running pair, as docker-compose.yml
// runs it: the same template with only the upstream address and the listen port filled in
// (as the nginx image's entrypoint fills them), a certificate from the same dev-cert.sh.
// users-api trusts the proxy alone (TRUSTED_PROXIES=127.0.0.1) and callers come from other
// loopback addresses, so the address users-api sees tells whose it is.
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { request } from 'node:https'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { onPath } from '../src/run.js'
import { nginxDir, nginxTemplate, renderTemplate } from './nginx-template.js'
import {
  baseEnv,
  fromSource,
  newEmail,
  newPassword,
  startMongoLite,
  startPair,
  startProcess,
  type Pair,
  type Started,
} from './services.js'

function nginxBinary(): string {
  const found = onPath('nginx') ?? ['/usr/sbin/nginx'].find((p) => existsSync(p))
  if (!found) {
    throw new Error(
      'nginx is not installed; the proxy checks run the real one: apt-get install -y nginx-light',
    )
  }
  return found
}

async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

interface Proxy {
  port: number
  cert: string
  process: Started
  dir: string
  accessLog: () => string
}

/** nginx with the repository's configuration in front of `upstream` (host:port). */
async function startNginx(upstream: string, options: { docs: boolean }): Promise<Proxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'users-auth-nginx-'))
  return configureAndStart(dir, upstream, options).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw error
  })
}

async function configureAndStart(
  dir: string,
  upstream: string,
  options: { docs: boolean },
): Promise<Proxy> {
  const certs = path.join(dir, 'certs')
  mkdirSync(certs)
  const cert = spawnSync('sh', [path.join(nginxDir, 'dev-cert.sh')], {
    env: { ...baseEnv(), NGINX_CERT_DIR: certs },
    encoding: 'utf8',
  })
  if (cert.status !== 0) throw new Error(`dev-cert.sh failed: ${cert.stderr}`)

  const port = await freePort()
  mkdirSync(path.join(dir, 'conf.d'))
  writeFileSync(
    path.join(dir, 'conf.d/default.conf'),
    renderTemplate(nginxTemplate, {
      USERS_API_UPSTREAM: upstream,
      NGINX_HTTPS_PORT: `127.0.0.1:${String(port)}`,
    }),
  )
  mkdirSync(path.join(dir, 'users-api'))
  if (options.docs) {
    cpSync(
      path.join(nginxDir, 'api-docs.locations'),
      path.join(dir, 'users-api/api-docs.locations'),
    )
  }
  // Stands for the image's /etc/nginx/nginx.conf: everything local to this folder.
  const temp = (name: string): string => path.join(dir, `tmp-${name}`)
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      ...(process.getuid?.() === 0 ? ['user nobody nogroup;'] : []),
      `pid ${path.join(dir, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events { worker_connections 128; }',
      'http {',
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      '  include conf.d/*.conf;',
      '}',
      '',
    ].join('\n'),
  )
  const nginx = nginxBinary()
  const args = ['-e', 'stderr', '-p', dir, '-c', path.join(dir, 'nginx.conf')]
  // The access log goes to /dev/stdout, which nginx opens by name: a file here, as a pipe or
  // terminal is in the container (a socket, what Node gives a child, cannot be opened so).
  const accessLog = path.join(dir, 'access.log')
  const stdout = openSync(accessLog, 'a')
  const check = spawnSync(nginx, [...args, '-t'], {
    encoding: 'utf8',
    stdio: ['ignore', stdout, 'pipe'],
  })
  if (check.status !== 0) throw new Error(`nginx -t refused the configuration:\n${check.stderr}`)
  const started = await startProcess('nginx', nginx, args, {
    cwd: dir,
    env: baseEnv(),
    ready: /start worker process/,
    stdout,
  }).finally(() => {
    closeSync(stdout)
  })
  return {
    port,
    cert: readFileSync(path.join(certs, 'tls.crt'), 'utf8'),
    process: started,
    dir,
    accessLog: () => readFileSync(accessLog, 'utf8'),
  }
}

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  text: string
  json: () => Record<string, unknown>
}

/** One HTTPS request through the proxy, from a loopback address of the caller's choosing. */
function call(
  proxy: Proxy,
  options: {
    method?: string
    path: string
    from?: string
    headers?: Record<string, string>
    body?: string
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        method: options.method ?? 'GET',
        path: options.path,
        localAddress: options.from ?? '127.0.0.1',
        ca: proxy.cert,
        agent: false,
        headers: {
          ...(options.body === undefined
            ? {}
            : {
                'content-type': 'application/json',
                'content-length': Buffer.byteLength(options.body),
              }),
          ...options.headers,
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          })
        })
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

const login = (proxy: Proxy, from: string, headers: Record<string, string> = {}): Promise<Answer> =>
  call(proxy, {
    method: 'POST',
    path: '/v1/auth/login',
    from,
    headers,
    body: JSON.stringify({ email: newEmail('nobody'), password: newPassword() }),
  })

/** users-api's log lines for one request id, so far. */
function usersApiLines(pair: Pair, requestId: string): Record<string, unknown>[] {
  return pair.users
    .lines()
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.requestId === requestId)
}

/** The lines users-api logged for a request it answered (they may arrive just after the answer). */
async function loggedFor(pair: Pair, requestId: string): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5000
  for (;;) {
    const lines = usersApiLines(pair, requestId)
    if (lines.some((l) => l.msg === 'request completed') || Date.now() > deadline) return lines
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function expectProblem(answer: Answer, status: number, code: string): void {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(answer.json()).toMatchObject({ status, code })
}

const ipBudget = 3
let mongo: Awaited<ReturnType<typeof startMongoLite>> | undefined
let pair: Pair | undefined
let dev: Proxy | undefined

beforeAll(async () => {
  nginxBinary()
  mongo = await startMongoLite()
  pair = await startPair({
    users: fromSource('services/users-api', 'src/server.ts'),
    auth: fromSource('services/auth-api', 'src/server.ts'),
    mongoUri: `${mongo.uri}/users-auth`,
    usersEnv: { TRUSTED_PROXIES: '127.0.0.1', RATE_LIMIT_IP_MAX: String(ipBudget) },
  })
  dev = await startNginx(new URL(pair.usersUrl).host, { docs: true })
}, 180_000)

afterAll(async () => {
  await dev?.process.stop()
  await pair?.stop()
  await mongo?.process.stop()
  if (dev) rmSync(dev.dir, { recursive: true, force: true })
})

describe('nginx in front of users-api, as docker-compose.yml runs it', () => {
  test('serves the API, its key set and (in development) its documents over TLS', async () => {
    const jwks = await call(dev!, { path: '/.well-known/jwks.json' })
    expect(jwks.status).toBe(200)
    expect(jwks.json().keys).toHaveLength(1)
    const signup = await call(dev!, {
      method: 'POST',
      path: '/v1/auth/signup',
      from: '127.0.0.10',
      body: JSON.stringify({ email: newEmail('edge'), password: newPassword() }),
    })
    expect(signup.status, signup.text).toBe(201)
    expect((await call(dev!, { path: '/openapi.json' })).status).toBe(200)
    expect((await call(dev!, { path: '/docs' })).status).toBeLessThan(400)
  })

  test("users-api sees the caller's address; a spoofed X-Forwarded-For changes nothing", async () => {
    const caller = '127.0.0.2'
    const requestId = 'edge-client-address-1'
    // The budget is spent however the caller names itself: every attempt counts for its address.
    for (let i = 0; i < ipBudget; i++) {
      const spoofed = ['198.51.100.7', '127.0.0.1', `10.0.0.${String(i)}, 203.0.113.9`][i % 3]!
      const answer = await login(dev!, caller, {
        'x-forwarded-for': spoofed,
        'x-real-ip': '198.51.100.8',
        ...(i === 0 ? { 'x-request-id': requestId } : {}),
      })
      expect(answer.status, answer.text).toBe(401)
    }
    const spent = await login(dev!, caller, { 'x-forwarded-for': '198.51.100.99' })
    expectProblem(spent, 429, 'RATE_LIMITED')
    expect(spent.headers['retry-after']).toMatch(/^\d+$/)
    // Another caller behind the same proxy has a budget of its own.
    expect((await login(dev!, '127.0.0.3')).status).toBe(401)

    const logged = (await loggedFor(pair!, requestId)).map(
      (l) => (l.req as { ip?: string } | undefined)?.ip,
    )
    expect(logged.filter(Boolean)).toEqual([caller])
  })

  test("the caller's X-Request-Id passes through; a malformed or missing one is replaced by nginx's", async () => {
    const passed = await call(dev!, {
      path: '/.well-known/jwks.json',
      headers: { 'x-request-id': 'client-chosen.id:42' },
    })
    expect(passed.headers['x-request-id']).toBe('client-chosen.id:42')
    expect((await loggedFor(pair!, 'client-chosen.id:42')).length).toBeGreaterThan(0)
    expect(dev!.accessLog()).toContain('request_id=client-chosen.id:42')

    const malformed: Record<string, string>[] = [{ 'x-request-id': 'not plain; has spaces' }, {}]
    for (const headers of malformed) {
      const replaced = await call(dev!, { path: '/.well-known/jwks.json', headers })
      const id = replaced.headers['x-request-id'] as string
      expect(id).toMatch(/^[0-9a-f]{32}$/)
      expect((await loggedFor(pair!, id)).length).toBeGreaterThan(0)
    }
  })

  test('a body over 16 KiB stops at the proxy: 413 problem+json, users-api never sees it', async () => {
    const requestId = 'edge-oversize-1'
    const body = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(20 * 1024) })
    const answer = await call(dev!, {
      method: 'POST',
      path: '/v1/auth/signup',
      from: '127.0.0.11',
      headers: { 'x-request-id': requestId },
      body,
    })
    expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE')
    expect(answer.headers['x-request-id']).toBe(requestId)
    // At the limit it still reaches users-api (which judges the body itself).
    const fits = await call(dev!, {
      method: 'POST',
      path: '/v1/auth/signup',
      from: '127.0.0.11',
      headers: { 'x-request-id': 'edge-oversize-2' },
      body: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(16 * 1024 - 100) }),
    })
    expect(fits.status).toBe(400)
    // Once users-api has logged the later request, it would have logged the earlier one.
    expect((await loggedFor(pair!, 'edge-oversize-2')).length).toBeGreaterThan(0)
    expect(usersApiLines(pair!, requestId)).toEqual([])
  })

  test('/metrics, /readyz and /healthz are not reachable through the proxy', async () => {
    for (const route of [
      '/metrics',
      '/readyz',
      '/healthz',
      '/v1/../metrics',
      '/v1/%2e%2e/readyz',
    ]) {
      const answer = await call(dev!, { path: route })
      expectProblem(answer, 404, 'NOT_FOUND')
    }
    // They exist on users-api itself: the 404 is the proxy's doing.
    expect((await fetch(`${pair!.usersUrl}/metrics`)).status).toBe(200)
  })
})

describe('nginx without the development include, in front of a stand-in that records what arrives', () => {
  let upstream: Server | undefined
  let prod: Proxy | undefined
  const arrived: { url: string; headers: IncomingHttpHeaders }[] = []

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      arrived.push({ url: req.url ?? '', headers: req.headers })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
    await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve))
    const { port } = upstream.address() as AddressInfo
    prod = await startNginx(`127.0.0.1:${String(port)}`, { docs: false })
  }, 60_000)

  afterAll(async () => {
    await prod?.process.stop()
    upstream?.closeAllConnections()
    await new Promise((resolve) => upstream?.close(resolve))
    if (prod) rmSync(prod.dir, { recursive: true, force: true })
  })

  test('/docs and /openapi.json answer 404', async () => {
    for (const route of ['/docs', '/docs/static/index.html', '/openapi.json']) {
      expectProblem(await call(prod!, { path: route }), 404, 'NOT_FOUND')
    }
    expect(arrived).toEqual([])
  })

  test('users-api gets the caller as X-Forwarded-For, https as X-Forwarded-Proto, and the request id', async () => {
    const answer = await call(prod!, {
      path: '/v1/users/me/../me?x=1',
      from: '127.0.0.4',
      headers: { 'x-forwarded-for': '198.51.100.7', 'x-request-id': 'edge-headers-1' },
    })
    expect(answer.status).toBe(200)
    expect(arrived.at(-1)).toMatchObject({
      url: '/v1/users/me?x=1',
      headers: {
        'x-forwarded-for': '127.0.0.4',
        'x-forwarded-proto': 'https',
        'x-request-id': 'edge-headers-1',
      },
    })
    // The proxy's access log names the request by its id and leaves the query string out.
    const logged = prod!
      .accessLog()
      .split('\n')
      .find((l) => l.includes('edge-headers-1'))
    expect(logged).toContain('"GET /v1/users/me" 200')
    expect(logged).not.toContain('x=1')
  })

  test('users-api unreachable: 503 problem+json with Retry-After', async () => {
    upstream!.closeAllConnections()
    await new Promise((resolve) => upstream!.close(resolve))
    const answer = await call(prod!, { path: '/v1/users/me' })
    expectProblem(answer, 503, 'SERVICE_UNAVAILABLE')
    expect(answer.headers['retry-after']).toBe('5')
  })
})
