import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

// `pnpm start` as a new user runs it (its own process, no MongoDB, no settings but its ports),
// then the README's admin:create command against it, then a login as that admin.

const root = fileURLToPath(new URL('../../..', import.meta.url))

/** The README's admin:create command: the shell block in its "Admins" section. */
function readmeAdminCommand(): string {
  const readme = readFileSync(`${root}/README.md`, 'utf8')
  const section = readme.slice(readme.indexOf('### Admins'))
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  if (!block) throw new Error('README: no shell block in the Admins section')
  return block.trim()
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  detached = false,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(command, args, { cwd: root, env, detached })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  return { child, output: () => output, exited }
}

/** A shell as a new user has one: none of the test runner's or the service's settings. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const unset = new Set(['NODE_ENV', 'MONGODB_URI', 'INTERNAL_API_TOKEN', 'AUTH_API_URL', 'HOST'])
  const inherited = Object.entries(process.env).filter(([name]) => !unset.has(name))
  return { ...Object.fromEntries(inherited), ...extra }
}

const stacks: ChildProcess[] = []
afterEach(async () => {
  for (const stack of stacks.splice(0)) {
    if (stack.pid === undefined || stack.exitCode !== null) continue
    const closed = new Promise((resolve) => stack.once('close', resolve))
    // The whole process group this test started: pnpm, tsx and the node process under it.
    process.kill(-stack.pid, 'SIGTERM')
    await closed
  }
})

describe('pnpm start', () => {
  it('reads the settings the README names for it, with the defaults the README gives', () => {
    const start = readFileSync(`${root}/scripts/start.ts`, 'utf8')
    const readme = readFileSync(`${root}/README.md`, 'utf8')
    const from = readme.indexOf('`pnpm start` takes its settings')
    const paragraph = readme.slice(from, readme.indexOf('\n\n', from))
    const settings = [...start.matchAll(/(?<!process\.)\benv\.([A-Z_]+)/g)].map((m) => m[1])
    expect(new Set(settings)).toEqual(
      new Set(['HOST', 'PORT', 'AUTH_API_PORT', 'MONGO_PORT', 'MONGODB_URI']),
    )
    for (const name of settings) expect(paragraph).toContain(`\`${name ?? ''}\``)
    const defaults =
      /const defaults = \{ host: '([^']+)', usersPort: (\d+), authPort: (\d+), mongoPort: (\d+) \}/.exec(
        start,
      )
    expect(defaults).not.toBeNull()
    const [, host, users, auth, mongo] = defaults ?? []
    expect(paragraph).toContain(`\`HOST\` (here\n\`${host ?? ''}\``)
    expect(paragraph).toContain(`\`PORT\` (users-api, ${users ?? ''})`)
    expect(paragraph).toContain(`\`AUTH_API_PORT\` (${auth ?? ''})`)
    expect(paragraph).toContain(`(${mongo ?? ''}, database \`users\`)`)
    const quickStart = readme.split('\n').find((line) => line.includes('&& pnpm start'))
    expect(quickStart).toContain(`users-api on ${host ?? ''}:${users ?? ''}`)
    expect(quickStart).toContain(`auth-api on :${auth ?? ''}`)
    expect(quickStart).toContain(`MongoDB on :${mongo ?? ''}`)
  })

  it(
    'prints its MongoDB and the README’s admin:create command, which makes an admin who can log in',
    { timeout: 240_000 },
    async () => {
      const [usersPort, authPort, mongoPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ]
      const stack = run(
        'pnpm',
        ['--silent', 'start'],
        userEnv({
          PORT: String(usersPort),
          AUTH_API_PORT: String(authPort),
          MONGO_PORT: String(mongoPort),
          LOG_LEVEL: 'warn',
        }),
        true,
      )
      stacks.push(stack.child)
      const deadline = Date.now() + 120_000
      while (!stack.output().includes('Ctrl-C to stop')) {
        if (stack.child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`pnpm start did not come up:\n${stack.output()}`)
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const banner = stack.output()
      const mongoUri = `mongodb://127.0.0.1:${mongoPort}/users`
      expect(banner).toContain(`users-api  http://127.0.0.1:${usersPort}`)
      expect(banner).toContain(`MongoDB    ${mongoUri}`)

      // The README's command, with this stack's ports for the defaults (27017, 4000): exactly
      // what pnpm start printed.
      const command = readmeAdminCommand()
      expect(command).toContain('MONGODB_URI=mongodb://127.0.0.1:27017/users')
      const here = command.replace(
        'MONGODB_URI=mongodb://127.0.0.1:27017/users',
        `MONGODB_URI=${mongoUri} AUTH_API_URL=http://127.0.0.1:${authPort}`,
      )
      // The banner indents it by two spaces.
      expect(banner).toContain(here.replace(/^/gm, '  '))

      const admin = run('bash', ['-c', here], userEnv({}))
      expect(await admin.exited, admin.output()).toBe(0)
      expect(admin.output()).toContain('created ops@example.com')

      const password = /printf '%s' '([^']+)'/.exec(command)?.[1]
      const login = await fetch(`http://127.0.0.1:${usersPort}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@example.com', password }),
      })
      expect(login.status).toBe(200)
      const session = (await login.json()) as { accessToken: string; user: { roles: string[] } }
      expect(session.user.roles).toContain('admin')
      const list = await fetch(`http://127.0.0.1:${usersPort}/v1/users`, {
        headers: { authorization: `Bearer ${session.accessToken}` },
      })
      expect(list.status).toBe(200)
    },
  )
})
