// The closest check of the images this machine allows (no container engine): both
// Dockerfiles' builds reproduced on the host (host-image.ts), then the results run as the
// images run them: NODE_ENV=production from the Dockerfile, an unprivileged numeric user that
// owns none of the files, the exec-form CMD in the app folder, production dependencies only.
// A signup and a login through them over HTTP show the pair works without any test package.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { run } from '../src/run.js'
import { HostBuild, type HostImage } from './host-image.js'
import {
  baseEnv,
  newEmail,
  newPassword,
  startMongoLite,
  startPair,
  startProcess,
  tail,
  type Pair,
  type Started,
} from './services.js'

/** Packages that exist for tests and local runs; none belongs in an image. */
const testPackages = [
  '@users-auth/dev-mongo',
  '@users-auth/mongo-lite',
  'mongodb-memory-server',
  'mongodb-memory-server-core',
  'vitest',
  'tsx',
]

// A uid and gid that no account on the host has: the app needs no passwd entry, owns none of
// its files and can change none of them (the images use 1000; any non-root id must do).
const appUser = { uid: 10001, gid: 10001 }

/**
 * The prefix that drops a command to appUser when the tests run as root; a test runner that
 * is not root is unprivileged already and runs it as itself.
 */
function asAppUser(): string[] {
  if (process.getuid?.() !== 0) return []
  return [
    'setpriv',
    `--reuid=${String(appUser.uid)}`,
    `--regid=${String(appUser.gid)}`,
    '--clear-groups',
    '--no-new-privs',
    '--',
  ]
}

/** Every package name installed under a node_modules folder, pnpm's virtual store included. */
function installedPackages(dir: string): Set<string> {
  const names = new Set<string>()
  const visit = (modules: string): void => {
    for (const entry of readdirSync(modules, { withFileTypes: true })) {
      const full = path.join(modules, entry.name)
      if (entry.name === '.pnpm') {
        for (const id of readdirSync(full, { withFileTypes: true })) {
          if (!id.isDirectory()) continue
          const nested = path.join(full, id.name, 'node_modules')
          if (statSync(nested, { throwIfNoEntry: false })?.isDirectory()) visit(nested)
        }
      } else if (entry.name.startsWith('@') && entry.isDirectory()) {
        for (const scoped of readdirSync(full)) names.add(`${entry.name}/${scoped}`)
      } else if (!entry.name.startsWith('.')) {
        names.add(entry.name)
      }
    }
  }
  visit(path.join(dir, 'node_modules'))
  return names
}

const root = mkdtempSync(path.join(tmpdir(), 'users-auth-image-'))
// The unprivileged user must reach the app folders; nothing in them is writable by it.
chmodSync(root, 0o755)
const images: Record<'users-api' | 'auth-api', HostImage> = {} as never
let mongo: { uri: string; process: Started } | undefined
let pair: Pair | undefined

beforeAll(() => {
  const build = new HostBuild(root)
  images['users-api'] = build.build('services/users-api/Dockerfile')
  images['auth-api'] = build.build('services/auth-api/Dockerfile')
}, 600_000)

afterAll(async () => {
  await pair?.stop()
  await mongo?.process.stop()
  rmSync(root, { recursive: true, force: true })
})

/** The image's CMD, run in its app folder (the Dockerfile's WORKDIR). */
function imageCommand(image: HostImage): { cwd: string; argv: string[] } {
  const [program, ...rest] = image.cmd
  // The image's node is the base image's; here it is the one running the tests.
  return { cwd: image.appDir, argv: [program === 'node' ? process.execPath : program!, ...rest] }
}

describe.each(['users-api', 'auth-api'] as const)('the %s image', (name) => {
  test('holds production dependencies only: no test package, no sources or tests', () => {
    const image = images[name]
    // Built as its Dockerfile says: a frozen install, then a production-only deploy.
    expect(image.steps).toContain('pnpm install --frozen-lockfile --offline')
    expect(image.steps.filter((s) => /\bdeploy\b/.test(s) && /--prod\b/.test(s))).toHaveLength(1)
    const installed = installedPackages(image.appDir)
    expect(installed.size).toBeGreaterThan(10)
    expect(testPackages.filter((p) => installed.has(p))).toEqual([])
    const top = readdirSync(image.appDir)
    expect(top).toContain('dist')
    expect(top).not.toContain('src')
    expect(top).not.toContain('test')
    expect(image.env.NODE_ENV).toBe('production')
    expect(image.cmd).toEqual(['node', 'dist/server.js'])
  })
})

test('both images run as an unprivileged user in production: signup and login over HTTP', async () => {
  mongo = await startMongoLite()
  const wrap = asAppUser()
  // Signing keys made the way an operator without a checkout makes them: the image's keygen.
  const keygenArgv = [...wrap, process.execPath, 'dist/keygen.js']
  const keygen = run(keygenArgv[0]!, keygenArgv.slice(1), {
    cwd: images['auth-api'].appDir,
    env: { ...baseEnv(), ...images['auth-api'].env },
  })
  expect(keygen.status, keygen.stderr).toBe(0)
  const privateJwks = keygen.stdout.trim()

  pair = await startPair({
    users: imageCommand(images['users-api']),
    auth: imageCommand(images['auth-api']),
    mongoUri: `${mongo.uri}/users-auth`,
    authEnv: { ...images['auth-api'].env, JWT_PRIVATE_KEYS: privateJwks },
    usersEnv: images['users-api'].env,
    wrap,
  })

  if (wrap.length) {
    for (const service of [pair.users, pair.auth]) {
      const status = readFileSync(`/proc/${String(service.pid)}/status`, 'utf8')
      expect(status, service.name).toMatch(new RegExp(`^Uid:\\s+${String(appUser.uid)}\\s`, 'm'))
      expect(status, service.name).toMatch(new RegExp(`^Groups:\\s*$`, 'm'))
    }
  } else {
    expect(process.getuid?.()).not.toBe(0)
  }

  const email = newEmail('image')
  const password = newPassword()
  const post = (route: string, body: unknown): Promise<Response> =>
    fetch(`${pair!.usersUrl}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const signup = await post('/v1/auth/signup', { email, password, name: 'Image Check' })
  expect(signup.status, await signup.clone().text()).toBe(201)
  const login = await post('/v1/auth/login', { email, password })
  expect(login.status, await login.clone().text()).toBe(200)
  const { accessToken } = (await login.json()) as { accessToken: string }
  const me = await fetch(`${pair.usersUrl}/v1/users/me`, {
    headers: { authorization: `Bearer ${accessToken}` },
  })
  expect(me.status).toBe(200)
  expect(((await me.json()) as { email: string }).email).toBe(email)
}, 120_000)

test('the users-api image without MONGODB_URI outside production refuses in one clear line', async () => {
  const image = images['users-api']
  const wrap = asAppUser()
  const { argv, cwd } = imageCommand(image)
  const command = [...wrap, ...argv]
  // Not production (which demands MONGODB_URI itself): the one case that would reach for the
  // embedded MongoDB, a development dependency the image does not have.
  const started = startProcess('users-api', command[0]!, command.slice(1), {
    cwd,
    env: { ...baseEnv(), NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0' },
    ready: /Server listening at/,
    timeoutMs: 30_000,
  })
  const error = await started.then(
    async (running) => {
      await running.stop()
      return new Error('users-api started without MONGODB_URI')
    },
    (failure: unknown) => failure as Error,
  )
  expect(error.message).toContain('exited with 1 before it was ready')
  const output = error.message.split('\n').slice(1).join('\n')
  expect(output, tail(output.split('\n'))).toContain(
    'users-api: set MONGODB_URI; the embedded MongoDB is for development checkouts only',
  )
  // No stack trace: one line for the operator.
  expect(output).not.toMatch(/^\s+at /m)
}, 60_000)
