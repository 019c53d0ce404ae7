import { spawnSync } from 'node:child_process'
import { accessSync, constants, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'

export interface MongodBinary {
  readonly path: string
  /** Where it was found, for the log line. */
  readonly source: 'MONGOMS_SYSTEM_BINARY' | 'PATH' | 'mongodb-memory-server cache'
}

const EXECUTABLE = process.platform === 'win32' ? 'mongod.exe' : 'mongod'

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * A mongod that can be started without a download: MONGOMS_SYSTEM_BINARY, then `mongod` on
 * PATH, then one that mongodb-memory-server downloaded earlier. Its cache is
 * MONGOMS_DOWNLOAD_DIR when set, otherwise ~/.cache/mongodb-binaries and every
 * node_modules/.cache/mongodb-memory-server from `cwd` upwards.
 */
export function findMongod(env: NodeJS.ProcessEnv, cwd = process.cwd()): MongodBinary | undefined {
  const system = env.MONGOMS_SYSTEM_BINARY
  // An explicit choice is returned even if broken, so that starting it reports why.
  if (system) return { path: system, source: 'MONGOMS_SYSTEM_BINARY' }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, EXECUTABLE)
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' }
  }
  for (const dir of cacheDirs(env, cwd)) {
    const cached = newestCachedBinary(dir)
    if (cached) return cached
  }
  return undefined
}

function cacheDirs(env: NodeJS.ProcessEnv, cwd: string): string[] {
  if (env.MONGOMS_DOWNLOAD_DIR) return [env.MONGOMS_DOWNLOAD_DIR]
  const dirs = [join(env.HOME ?? homedir(), '.cache', 'mongodb-binaries')]
  for (let dir = cwd; ; dir = dirname(dir)) {
    dirs.push(join(dir, 'node_modules', '.cache', 'mongodb-memory-server'))
    if (dirname(dir) === dir) return dirs
  }
}

/** mongodb-memory-server names its binaries `mongod-<arch>-<distro>-<version>`. */
function newestCachedBinary(dir: string): MongodBinary | undefined {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return undefined
  }
  const found = names
    .map((name) => ({ name, version: /^mongod-.*-(\d+\.\d+\.\d+)(\.exe)?$/.exec(name)?.[1] }))
    .filter((entry): entry is { name: string; version: string } => entry.version !== undefined)
    .filter((entry) => isExecutable(join(dir, entry.name)))
    .sort((a, b) => compareVersions(b.version, a.version))[0]
  return found && { path: join(dir, found.name), source: 'mongodb-memory-server cache' }
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)]
  for (let i = 0; i < 3; i++) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}

/**
 * `mongod --version` → "7.0.14"; undefined if it cannot run (missing, not executable, built
 * for another system, missing libraries) or says something else.
 */
export function mongodVersion(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 })
  if (result.error) return undefined
  return /db version v?(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1]
}
