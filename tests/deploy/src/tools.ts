// Where the real helm and actionlint are: the cache folder tests/deploy/install-tools.sh
// builds them into (at the versions it names), else PATH. A missing tool is an error that
// names the command to run, never a skipped check.
import { accessSync, constants, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { fromRoot } from './repo.js'
import { onPath } from './run.js'

export const installScript = fromRoot('tests/deploy/install-tools.sh')

export type ToolName = 'helm' | 'actionlint'

/** The version install-tools.sh pins for a tool, e.g. v3.18.4 (the workflows use the same). */
export function pinnedVersion(tool: ToolName): string {
  const script = readFileSync(installScript, 'utf8')
  const match = new RegExp(`^${tool}_version=(v[0-9.]+)$`, 'm').exec(script)
  if (!match) throw new Error(`${installScript} names no ${tool}_version`)
  return match[1]!
}

/** The cache folder, as install-tools.sh computes it. */
export function toolsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.USERS_AUTH_TOOLS) return env.USERS_AUTH_TOOLS
  const cache = env.XDG_CACHE_HOME || path.join(env.HOME || homedir(), '.cache')
  return path.join(cache, 'users-auth/tools')
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The tool's path: the pinned build in the cache folder, else the one on PATH. */
export function toolPath(tool: ToolName): string {
  const cached = path.join(toolsDir(), `${tool}-${pinnedVersion(tool)}`, tool)
  if (executable(cached)) return cached
  const found = onPath(tool)
  if (found) return found
  throw new Error(
    `${tool} ${pinnedVersion(tool)} is neither in ${path.dirname(cached)} nor on PATH; ` +
      `build it with: bash tests/deploy/install-tools.sh`,
  )
}
