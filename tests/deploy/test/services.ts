// The running pieces the image and proxy checks talk to over HTTP: a MongoDB stand-in
// (mongo-lite from the workspace), auth-api and users-api as separate processes configured
// only through the environment, as in production. Every process is stopped by the test that
// started it and never outlives the test run.
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { startDevMailSink } from 'users-api/dev-mail-sink'
import { fromRoot } from '../src/repo.js'

export interface Started {
  readonly name: string
  readonly pid: number
  /** The ready line's match: group 1 is the address where the process says it listens. */
  readonly match: RegExpExecArray
  /** Everything it printed so far, stdout and stderr interleaved. */
  lines(): readonly string[]
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>
  readonly exited: Promise<number | null>
}

export interface StartOptions {
  cwd: string
  /** The whole environment: nothing of the test runner's leaks in. */
  env: Record<string, string>
  /** The output line that says the process is ready. */
  ready: RegExp
  timeoutMs?: number
  /** A file descriptor for stdout instead of a pipe (nginx opens /dev/stdout by name). */
  stdout?: number
}

/** A child process, resolved once it prints `ready`; fails with its output if it exits or stays quiet. */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: StartOptions,
): Promise<Started> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'],
  })
  const captured: string[] = []
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code)
    })
    child.once('error', (error) => {
      captured.push(`spawn failed: ${error.message}`)
      resolve(null)
    })
  })
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  void exited.then(() => process.off('exit', killOnExit))

  let onLine: ((line: string) => void) | undefined
  const collect = (stream: NodeJS.ReadableStream): void => {
    let pending = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      pending += chunk
      const parts = pending.split('\n')
      pending = parts.pop() ?? ''
      for (const line of parts) {
        captured.push(line)
        onLine?.(line)
      }
    })
  }
  if (child.stdout) collect(child.stdout)
  if (child.stderr) collect(child.stderr)

  const timeoutMs = options.timeoutMs ?? 60_000
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} was not ready within ${String(timeoutMs)} ms:\n${tail(captured)}`))
    }, timeoutMs)
    const check = (line: string): void => {
      const found = options.ready.exec(line)
      if (found) {
        clearTimeout(timer)
        onLine = undefined
        resolve(found)
      }
    }
    captured.forEach(check)
    onLine = check
    void exited.then((code) => {
      clearTimeout(timer)
      reject(
        new Error(`${name} exited with ${String(code)} before it was ready:\n${tail(captured)}`),
      )
    })
  }).catch(async (error: unknown) => {
    await terminate(child, exited)
    throw error
  })

  return {
    name,
    pid: child.pid ?? -1,
    match,
    lines: () => captured,
    stop: () => terminate(child, exited),
    exited,
  }
}

export function tail(lines: readonly string[], count = 40): string {
  return lines.slice(-count).join('\n')
}

async function terminate(
  child: ChildProcess,
  exited: Promise<number | null>,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return child.exitCode
  }
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  const code = await exited
  clearTimeout(timer)
  return code
}

/** Only what a process needs from the test runner's environment. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin' }
}

/** Node running a workspace package's TypeScript sources, as `pnpm start` does. */
export function fromSource(dir: string, entry: string): { cwd: string; argv: string[] } {
  return {
    cwd: fromRoot(dir),
    argv: [process.execPath, '--conditions=@users-auth/source', '--import', 'tsx', entry],
  }
}

/** mongo-lite from the workspace, on a free loopback port. */
export async function startMongoLite(): Promise<{ uri: string; process: Started }> {
  const { cwd, argv } = fromSource('packages/mongo-lite', 'src/cli.ts')
  const started = await startProcess(
    'mongo-lite',
    argv[0]!,
    [...argv.slice(1), '--port', '0', '--host', '127.0.0.1'],
    { cwd, env: baseEnv(), ready: /listening at (mongodb:\/\/\S+)/ },
  )
  return { uri: started.match[1]!, process: started }
}

/** A service credential as production requires one (32 random bytes). */
export function newCredential(): string {
  return randomBytes(32).toString('base64url')
}

/** One TOTP_ENCRYPTION_KEYS entry, as `auth-api keygen --totp` prints. */
export function newTotpKeys(): string {
  return `deploy-test:${randomBytes(32).toString('base64')}`
}

/** A private JWK set with one Ed25519 key, as `auth-api keygen` prints. */
export function newSigningKeys(): string {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: 'deploy-test',
    alg: 'EdDSA',
    use: 'sig',
  }
  return JSON.stringify({ keys: [jwk] })
}

/** The address a service's "listening" log line names. */
export const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/

/** argon2 at its cheapest: these checks are about the deployment, not the hashing cost. */
export const cheapArgon2 = { ARGON2_MEMORY_KIB: '1024', ARGON2_ITERATIONS: '1', HASH_THREADS: '2' }

/** Polls a URL until it answers 200, bounded. */
export async function waitFor200(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      last = `${String(res.status)} ${await res.text()}`
      if (res.status === 200) return
    } catch (error) {
      last = String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} not ready within ${String(timeoutMs)} ms: ${last}`)
}

export interface Pair {
  usersUrl: string
  authUrl: string
  users: Started
  auth: Started
  stop(): Promise<void>
}

export interface PairCommands {
  /** argv and working directory of each service (the image's CMD, or the sources). */
  users: { cwd: string; argv: string[] }
  auth: { cwd: string; argv: string[] }
  mongoUri: string
  usersEnv?: Record<string, string>
  authEnv?: Record<string, string>
  /** Prepended to each argv, e.g. to drop to an unprivileged user. */
  wrap?: string[]
}

/** auth-api, then users-api calling it, both in production mode; resolves once both are ready. */
export async function startPair(options: PairCommands): Promise<Pair> {
  const credential = newCredential()
  const wrap = options.wrap ?? []
  const run = async (
    name: string,
    cmd: { cwd: string; argv: string[] },
    env: Record<string, string>,
  ): Promise<Started> => {
    const argv = [...wrap, ...cmd.argv]
    return startProcess(name, argv[0]!, argv.slice(1), {
      cwd: cmd.cwd,
      env: { ...baseEnv(), NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', ...env },
      ready: listening,
    })
  }
  // Production needs somewhere to deliver mail: a real SMTP server that takes it quietly.
  const mail = await startDevMailSink(() => undefined)
  const auth = await run('auth-api', options.auth, {
    INTERNAL_API_TOKEN: credential,
    JWT_PRIVATE_KEYS: newSigningKeys(),
    TOTP_ENCRYPTION_KEYS: newTotpKeys(),
    ...cheapArgon2,
    ...options.authEnv,
  })
  let users: Started | undefined
  try {
    users = await run('users-api', options.users, {
      MONGODB_URI: options.mongoUri,
      AUTH_API_URL: auth.match[1]!,
      INTERNAL_API_TOKEN: credential,
      SMTP_URL: mail.url,
      APP_URL: 'https://app.example.test',
      ...options.usersEnv,
    })
    const usersUrl = users.match[1]!
    const authUrl = auth.match[1]!
    await Promise.all([waitFor200(`${authUrl}/readyz`), waitFor200(`${usersUrl}/readyz`)])
    const running = users
    return {
      usersUrl,
      authUrl,
      users: running,
      auth,
      async stop() {
        await Promise.all([running.stop(), auth.stop()])
        await mail.close()
      },
    }
  } catch (error) {
    await Promise.all([users?.stop(), auth.stop()])
    await mail.close()
    throw error
  }
}

/** A password the policy accepts: long, random, not built from the email. */
export function newPassword(): string {
  return `${randomBytes(12).toString('base64url')} lantern orbit`
}

export function newEmail(label: string): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`
}
