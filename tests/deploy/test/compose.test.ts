// docker-compose.yml passes Debian's docker-compose 1.29 `config` (no engine needed), and keeps
// the promised shape: Nginx the one way in, auth-api unreachable from the host, health-gated
// start order, credentials only from .env.
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parse } from 'yaml'
import { describe, expect, test } from 'vitest'
import { fromRoot } from '../src/repo.js'
import { requireTool, run } from '../src/run.js'
import { nginxTemplate, templateVariables } from './nginx-template.js'

interface Service {
  image?: string
  build?: { context: string; dockerfile: string }
  ports?: string[]
  expose?: string[]
  networks?: string[] | Record<string, { ipv4_address?: string } | null>
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  volumes?: string[]
  read_only?: boolean
  cap_drop?: string[]
}
interface Compose {
  services: Record<string, Service>
  networks: Record<string, { internal?: boolean; ipam?: { config?: { subnet?: string }[] } } | null>
  volumes: Record<string, unknown>
}

const file = fromRoot('docker-compose.yml')
const compose = parse(readFileSync(file, 'utf8')) as Compose

const networksOf = (s: Service): string[] =>
  Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {})

function inSubnet(address: string, cidr: string): boolean {
  const toNumber = (ip: string): number =>
    ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0)
  const [base, bits] = cidr.split('/')
  const size = 2 ** (32 - Number(bits))
  return Math.floor(toNumber(address) / size) === Math.floor(toNumber(base!) / size)
}

function envFile(contents: string): string {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'users-auth-env-')), '.env')
  writeFileSync(f, contents)
  return f
}

function config(env: string): ReturnType<typeof run> {
  return run(requireTool('docker-compose'), ['--env-file', env, '-f', file, 'config', '-q'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
  })
}

describe('docker-compose.yml', () => {
  test('is valid for docker-compose config once .env holds the credentials', () => {
    const ok = config(
      envFile(
        'INTERNAL_API_TOKEN=0123456789abcdef\nJWT_PRIVATE_KEYS={"keys":[{"kty":"OKP","crv":"Ed25519"}]}\nTOTP_ENCRYPTION_KEYS=k1:AAAA\n',
      ),
    )
    expect(ok.stderr).toBe('')
    expect(ok.status).toBe(0)
  })

  test('refuses to start without the credentials, pointing at .env.example', () => {
    const missing = config(envFile(readFileSync(fromRoot('.env.example'), 'utf8')))
    expect(missing.status).not.toBe(0)
    expect(missing.stderr).toContain('create .env first (see .env.example)')
  })

  test('uses only keys docker-compose 1.29 knows', () => {
    expect(Object.keys(compose)).toEqual(['services', 'networks', 'volumes'])
    const text = readFileSync(file, 'utf8')
    for (const key of ['start_interval', 'required:', 'develop:', 'watch:']) {
      expect(text).not.toContain(key)
    }
  })

  test('auth-api publishes no port and sits only on internal networks', () => {
    const auth = compose.services['auth-api']!
    expect(auth.ports).toBeUndefined()
    expect(networksOf(auth).length).toBeGreaterThan(0)
    for (const n of networksOf(auth)) expect(compose.networks[n]?.internal, n).toBe(true)
    for (const name of ['mongodb', 'redis']) {
      const s = compose.services[name]!
      expect(s.ports).toBeUndefined()
      for (const n of networksOf(s)) expect(compose.networks[n]?.internal, n).toBe(true)
    }
  })

  test('users-api publishes no port, sits only on internal networks and starts after healthy dependencies', () => {
    const users = compose.services['users-api']!
    expect(users.ports).toBeUndefined()
    for (const n of networksOf(users)) expect(compose.networks[n]?.internal, n).toBe(true)
    expect(users.depends_on).toEqual({
      mongodb: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      'auth-api': { condition: 'service_healthy' },
    })
    expect(users.environment).toMatchObject({
      MONGODB_URI: 'mongodb://mongodb:27017/users-auth',
      AUTH_API_URL: 'http://auth-api:4000',
      REDIS_URL: 'redis://redis:6379',
    })
    // users-api can reach auth-api: they share a network.
    const auth = compose.services['auth-api']!
    expect(networksOf(users).some((n) => networksOf(auth).includes(n))).toBe(true)
  })

  test('Nginx is the one way in: TLS on 8443 in front of users-api', () => {
    const nginx = compose.services.nginx!
    expect(nginx.image).toMatch(/^nginx:\d/)
    expect(nginx.ports).toEqual(['8443:8443'])
    // Anything else published is bound to the host's loopback (Jaeger's UI).
    for (const [name, s] of Object.entries(compose.services)) {
      if (name === 'nginx') continue
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/)
    }
    expect(nginx.depends_on).toEqual({ 'users-api': { condition: 'service_healthy' } })
    // The template's placeholders are exactly what the service's environment fills in.
    expect(Object.keys(nginx.environment ?? {}).sort()).toEqual(templateVariables(nginxTemplate))
    expect(nginx.environment).toMatchObject({
      USERS_API_UPSTREAM: 'users-api:3000',
      NGINX_HTTPS_PORT: '8443',
    })
    expect(nginx.healthcheck?.test).toContain('https://127.0.0.1:8443/.well-known/jwks.json')
  })

  test("Nginx's configuration, certificate script and certificate volume are where the image reads them", () => {
    const mounts = Object.fromEntries(
      (compose.services.nginx!.volumes ?? []).map((v) => {
        const [source, target] = v.split(':')
        return [target!, source!]
      }),
    )
    expect(mounts['/etc/nginx/templates/default.conf.template']).toBe(
      './deploy/nginx/default.conf.template',
    )
    // The template includes users-api/*.locations and certs/ relative to /etc/nginx.
    expect(nginxTemplate).toContain('include users-api/*.locations;')
    expect(mounts['/etc/nginx/users-api/api-docs.locations']).toBe(
      './deploy/nginx/api-docs.locations',
    )
    expect(nginxTemplate).toContain('ssl_certificate certs/tls.crt;')
    expect(Object.keys(compose.volumes)).toContain(mounts['/etc/nginx/certs'])
    // The image's entrypoint runs only executable *.sh files in /docker-entrypoint.d.
    const script = Object.entries(mounts).find(
      ([, source]) => source === './deploy/nginx/dev-cert.sh',
    )
    expect(script?.[0]).toMatch(/^\/docker-entrypoint\.d\/\d+-[\w-]+\.sh$/)
    accessSync(fromRoot('deploy/nginx/dev-cert.sh'), constants.X_OK)
    const mode = run('git', ['ls-files', '--stage', 'deploy/nginx/dev-cert.sh']).stdout
    expect(mode).toMatch(/^100755 /)
  })

  test("users-api's TRUSTED_PROXIES names Nginx's fixed address on a network only the two share", () => {
    const nginx = compose.services.nginx!
    const users = compose.services['users-api']!
    const shared = networksOf(users).filter((n) => networksOf(nginx).includes(n))
    expect(shared).toHaveLength(1)
    const edge = shared[0]!
    const address = (nginx.networks as Record<string, { ipv4_address?: string }>)[edge]
      ?.ipv4_address
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/)
    expect(users.environment?.TRUSTED_PROXIES).toBe(address)
    const subnet = compose.networks[edge]?.ipam?.config?.[0]?.subnet
    expect(inSubnet(address!, subnet!)).toBe(true)
    expect(compose.networks[edge]?.internal).toBe(true)
    const members = Object.entries(compose.services)
      .filter(([, s]) => networksOf(s).includes(edge))
      .map(([name]) => name)
    expect(members.sort()).toEqual(['nginx', 'users-api'])
  })

  test('every service has a health check; the Node ones use fetch (no curl in the image)', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.healthcheck?.test[0], name).toBe('CMD')
    }
    for (const [name, port] of [
      ['users-api', 3000],
      ['auth-api', 4000],
    ] as const) {
      const probe = compose.services[name]!.healthcheck!.test
      expect(probe.slice(0, 3)).toEqual(['CMD', 'node', '-e'])
      expect(probe[3]).toContain(`fetch('http://127.0.0.1:${String(port)}/readyz')`)
    }
  })

  test('users-api delivers mail to Mailpit (pinned) over an internal network; its UI stays on loopback', () => {
    const mailpit = compose.services.mailpit!
    expect(mailpit.image).toMatch(/^axllent\/mailpit:v\d+\.\d+\.\d+$/)
    expect(mailpit.ports).toEqual(['127.0.0.1:8025:8025'])
    const users = compose.services['users-api']!
    expect(users.environment).toMatchObject({ SMTP_URL: 'smtp://mailpit:1025' })
    expect(users.environment?.APP_URL).toBe('${APP_URL:-https://localhost:8443}')
    const shared = networksOf(users).filter((n) => networksOf(mailpit).includes(n))
    expect(shared.length).toBeGreaterThan(0)
    for (const n of shared) expect(compose.networks[n]?.internal, n).toBe(true)
  })

  test('MongoDB 7 keeps its data in a named volume', () => {
    const mongo = compose.services.mongodb!
    expect(mongo.image).toMatch(/^mongo:7(\.|$)/)
    const [volume] = (mongo.volumes ?? [])[0]!.split(':')
    expect(Object.keys(compose.volumes)).toContain(volume)
  })

  test('credentials come from .env, never from the file itself', () => {
    for (const name of ['users-api', 'auth-api']) {
      const env = compose.services[name]!.environment!
      expect(env.INTERNAL_API_TOKEN).toMatch(/^\$\{INTERNAL_API_TOKEN:\?/)
    }
    expect(compose.services['auth-api']!.environment!.JWT_PRIVATE_KEYS).toMatch(
      /^\$\{JWT_PRIVATE_KEYS:\?/,
    )
    expect(compose.services['auth-api']!.environment!.TOTP_ENCRYPTION_KEYS).toMatch(
      /^\$\{TOTP_ENCRYPTION_KEYS:\?/,
    )
    for (const name of ['users-api', 'auth-api']) {
      const s = compose.services[name]!
      expect(s.build?.dockerfile).toBe(`services/${name}/Dockerfile`)
      expect(s.read_only).toBe(true)
      expect(s.cap_drop).toEqual(['ALL'])
    }
  })

  test('.env.example documents how to create .env and holds no credential', () => {
    const example = readFileSync(fromRoot('.env.example'), 'utf8')
    expect(example).toContain('cp .env.example .env')
    expect(example).toContain('openssl rand -hex 32')
    expect(example).toContain('pnpm --silent --filter auth-api keygen')
    const assigned = example
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0])
    expect(assigned).not.toContain('INTERNAL_API_TOKEN')
    expect(assigned).not.toContain('JWT_PRIVATE_KEYS')
    expect(assigned).not.toContain('TOTP_ENCRYPTION_KEYS')
  })
})
