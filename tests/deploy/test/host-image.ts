// A Dockerfile's build reproduced on the host, as closely as a machine without a container
// engine allows: the build context filtered by .dockerignore, then the build stage's
// instructions in order (COPY into a folder standing for WORKDIR, ENV, the pnpm steps of each
// RUN); the runtime stage's `COPY --from=build` names the folder that becomes the image. Steps
// that provision the base image (apt-get, npm install -g pnpm, removing npm) are the host's own
// business and are skipped; any other step is refused so that this check follows the
// Dockerfiles rather than drifting from them.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import dockerignore from '@balena/dockerignore'
import {
  type Dockerfile,
  DockerfileParser,
  type Instruction,
  JSONInstruction,
} from 'dockerfile-ast'
import { fromRoot, repoRoot } from '../src/repo.js'
import { run } from '../src/run.js'

// A CommonJS module whose typings declare an ES default export: at run time the import is the
// factory itself.
const ignore = dockerignore as unknown as typeof dockerignore.default

export interface HostImage {
  /** The folder holding what the runtime stage copied to its WORKDIR. */
  appDir: string
  /** The runtime stage's ENV. */
  env: Record<string, string>
  /** The runtime stage's USER, as written (`uid:gid`). */
  user: string
  /** The exec-form CMD. */
  cmd: string[]
  /** Host commands that ran for this image, in order (each step runs once per workspace). */
  steps: string[]
}

const words = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue())
const argsOf = (i: Instruction): string => i.getArgumentsContent() ?? ''

function envOf(dockerfile: Dockerfile, i: Instruction): Record<string, string> {
  const line = i.getRange().start.line
  const env = dockerfile.getENVs().find((e) => e.getRange().start.line === line)!
  return Object.fromEntries(env.getProperties().map((p) => [p.getName(), p.getValue() ?? '']))
}

/** The files of the build context: the repository minus what .dockerignore excludes. */
export function contextFiles(): string[] {
  const rules = ignore().add(readFileSync(fromRoot('.dockerignore'), 'utf8').split('\n'))
  const files: string[] = []
  const walk = (relDir: string): void => {
    for (const entry of readdirSync(path.join(repoRoot, relDir), { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name
      if (entry.isDirectory()) {
        // Neither can hold an exception, and walking them would take longer than the build.
        if ((entry.name === 'node_modules' || entry.name === '.git') && rules.ignores(rel)) continue
        walk(rel)
      } else if (!rules.ignores(rel)) {
        files.push(rel)
      }
    }
  }
  walk('')
  return files
}

/**
 * One build folder shared by several Dockerfiles of this repository: identical steps (the
 * context copy, the install) run once, as Docker's layer cache would have them.
 */
export class HostBuild {
  private readonly workspace: string
  private readonly done = new Set<string>()
  private files: string[] | undefined

  constructor(private readonly root: string) {
    this.workspace = path.join(root, 'build')
  }

  build(dockerfilePath: string): HostImage {
    const name = path.basename(path.dirname(dockerfilePath))
    const dockerfile = DockerfileParser.parse(readFileSync(fromRoot(dockerfilePath), 'utf8'))
    const froms = dockerfile.getFROMs()
    if (froms.length !== 2 || froms[0]!.getBuildStage() !== 'build') {
      throw new Error(`${dockerfilePath}: expected two stages, the first named "build"`)
    }
    const runtimeLine = froms[1]!.getRange().start.line
    const all = dockerfile.getInstructions()
    const buildStage = all.filter((i) => i.getRange().start.line < runtimeLine).slice(1)
    const runtimeStage = all.filter((i) => i.getRange().start.line > runtimeLine)

    // Where the build stage leaves the image's files (e.g. /out): a folder of this image's own.
    const copyFrom = runtimeStage.find(
      (i) => i.getKeyword() === 'COPY' && /--from=build\b/.test(i.getTextContent()),
    )
    if (!copyFrom) throw new Error(`${dockerfilePath}: the runtime stage copies nothing from build`)
    const stagePath = words(copyFrom).at(-2)!.replace(/\/$/, '')
    const appDir = path.join(this.root, `image-${name}`)
    const hostPaths = (command: string): string =>
      command.replace(new RegExp(`(^|\\s)${stagePath}(?=/|\\s|$)`, 'g'), `$1${appDir}`)

    const steps: string[] = []
    const buildEnv: Record<string, string> = {}
    for (const instruction of buildStage) {
      const keyword = instruction.getKeyword()
      if (keyword === 'ARG' || keyword === 'WORKDIR') continue
      if (keyword === 'ENV') {
        Object.assign(buildEnv, envOf(dockerfile, instruction))
      } else if (keyword === 'COPY') {
        const list = words(instruction)
        const dest = list.at(-1)
        const sources = list.slice(0, -1)
        if (dest !== './' && dest !== '.') throw new Error(`unexpected COPY target ${String(dest)}`)
        this.once(`COPY ${sources.join(' ')}`, steps, () => {
          this.copyContext(sources)
        })
      } else if (keyword === 'RUN') {
        const command = argsOf(instruction)
        if (/^apt-get\b/.test(command) || /^npm install -g pnpm@/.test(command)) continue
        if (!/^pnpm\b/.test(command)) {
          throw new Error(`${dockerfilePath}: no host equivalent for RUN ${command}`)
        }
        // Type checking is the typecheck step's job; tsc emits the same JavaScript without it.
        const host = /^pnpm --filter \S+ build$/.test(command)
          ? `${command} --noCheck`
          : hostPaths(command)
        this.once(host, steps, () => {
          const result = run('sh', ['-c', host], {
            cwd: this.workspace,
            env: { ...hostEnv(), ...buildEnv },
          })
          if (result.status !== 0) {
            throw new Error(
              `${host} failed (${String(result.status)}):\n${result.stdout}\n${result.stderr}`,
            )
          }
        })
      } else {
        throw new Error(`${dockerfilePath}: no host equivalent for ${instruction.getTextContent()}`)
      }
    }

    const env: Record<string, string> = {}
    let user = ''
    let cmd: string[] = []
    for (const instruction of runtimeStage) {
      const keyword = instruction.getKeyword()
      if (keyword === 'RUN') {
        // Only trimming the base image (its package managers) happens there.
        if (!/^rm -rf /.test(argsOf(instruction))) {
          throw new Error(`${dockerfilePath}: no host equivalent for RUN ${argsOf(instruction)}`)
        }
      } else if (keyword === 'ENV') {
        Object.assign(env, envOf(dockerfile, instruction))
      } else if (keyword === 'USER') {
        user = argsOf(instruction)
      } else if (keyword === 'CMD') {
        if (!(instruction instanceof JSONInstruction)) throw new Error('CMD is not exec form')
        cmd = instruction.getJSONStrings().map((s) => s.getJSONValue())
      } else if (keyword === 'COPY') {
        if (instruction !== copyFrom) throw new Error(`unexpected ${instruction.getTextContent()}`)
      } else if (!['WORKDIR', 'EXPOSE'].includes(keyword)) {
        throw new Error(`${dockerfilePath}: no host equivalent for ${instruction.getTextContent()}`)
      }
    }
    if (!existsSync(path.join(appDir, 'package.json'))) {
      throw new Error(`${dockerfilePath}: the build left nothing in ${stagePath}`)
    }
    return { appDir, env, user, cmd, steps }
  }

  private once(step: string, steps: string[], work: () => void): void {
    steps.push(step)
    if (this.done.has(step)) return
    work()
    this.done.add(step)
  }

  private copyContext(sources: string[]): void {
    this.files ??= contextFiles()
    const wanted =
      sources.length === 1 && sources[0] === '.'
        ? this.files
        : sources.map((s) => {
            if (!this.files!.includes(s)) throw new Error(`COPY ${s}: not in the build context`)
            return s
          })
    for (const rel of wanted) {
      const target = path.join(this.workspace, rel)
      mkdirSync(path.dirname(target), { recursive: true })
      cpSync(path.join(repoRoot, rel), target, { verbatimSymlinks: true })
    }
  }
}

/** pnpm needs its store and nothing else of the test runner's environment (NODE_ENV, npm_*). */
function hostEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' }
}
