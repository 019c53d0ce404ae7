import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The repository root, from this file's place in tests/security/src. SECURITY_SERVICES_ROOT
 * points the suite at another checkout's services (to audit a release candidate, say).
 */
export const repoRoot =
  process.env.SECURITY_SERVICES_ROOT?.replace(/\/?$/, '/') ??
  fileURLToPath(new URL('../../../', import.meta.url))

export type ServiceName = 'users-api' | 'auth-api'

export interface ServiceProcess {
  readonly name: ServiceName
  /** `http://127.0.0.1:<port>`, from the service's own "listening" log line. */
  readonly url: string
  readonly pid: number
  /** Every stdout and stderr line so far, in order. */
  lines(): readonly string[]
  /** SIGTERM, then SIGKILL if it has not exited within the bound. Resolves with the exit code. */
  stop(): Promise<number | null>
  /** Resolves when the process exits, for whatever reason. */
  readonly exited: Promise<number | null>
}

export interface SpawnOptions {
  env: Record<string, string>
  /** Each line is also appended here, so other processes (test workers) can read the logs. */
  logFile?: string
  startTimeoutMs?: number
}

/**
 * Starts a service the way its image does (`src/server.ts`, environment only), on an
 * ephemeral loopback port, and resolves once it has said where it listens. Fails loudly with
 * its output if it exits or stays silent instead.
 */
export async function spawnService(
  name: ServiceName,
  options: SpawnOptions,
): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@users-auth/source', '--import', 'tsx', 'src/server.ts'],
    {
      cwd: `${repoRoot}services/${name}`,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const captured: string[] = []
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code)
    })
    // Could not start at all (no such directory or executable): no 'exit' follows.
    child.once('error', (error) => {
      captured.push(`spawn failed: ${error.message}`)
      resolve(null)
    })
  })
  // Never outlive the process that started it, however that process ends.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  void exited.then(() => process.off('exit', killOnExit))
  let url: string | undefined
  let onListening: ((url: string) => void) | undefined
  const collect = (stream: NodeJS.ReadableStream) => {
    let pending = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      pending += chunk
      const parts = pending.split('\n')
      pending = parts.pop() ?? ''
      for (const line of parts) {
        captured.push(line)
        if (options.logFile) appendFileSync(options.logFile, `${line}\n`)
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (match?.[1] && !url) {
          url = match[1]
          onListening?.(url)
        }
      }
    })
  }
  collect(child.stdout)
  collect(child.stderr)

  const timeoutMs = options.startTimeoutMs ?? 30_000
  const listening = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${tail(captured)}`))
    }, timeoutMs)
    onListening = (at) => {
      clearTimeout(timer)
      resolve(at)
    }
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${String(code)} before listening:\n${tail(captured)}`))
    })
  }).catch(async (error: unknown) => {
    await terminate(child, exited)
    throw error
  })

  return {
    name,
    url: listening,
    pid: child.pid ?? -1,
    lines: () => captured,
    stop: () => terminate(child, exited),
    exited,
  }
}

function tail(lines: readonly string[]): string {
  return lines.slice(-30).join('\n')
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

/** Polls a URL until it answers 200, bounded. */
export async function waitFor200(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      last = `${res.status} ${await res.text()}`
      if (res.status === 200) return
    } catch (error) {
      last = String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms: ${last}`)
}
