import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'
import { repoRoot } from './repo.js'

export interface RunResult {
  status: number
  stdout: string
  stderr: string
}

/** Runs a command without a shell; a missing binary is an error, never a silent pass. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) {
    throw new Error(`cannot run ${command}: ${result.error.message}`)
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr }
}

/** The absolute path of an executable on PATH, or undefined. */
export function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
}

/** Like onPath, but fails with the command that installs the tool. */
export function requireTool(command: string): string {
  const found = onPath(command)
  if (!found) {
    throw new Error(
      `${command} is not on PATH; install the deploy-check tools with: bash tests/deploy/install-tools.sh`,
    )
  }
  return found
}
