// Both Dockerfiles parsed with dockerfile-ast: multi-stage, pnpm deploy of production
// dependencies only, Node 24 (the active LTS) on Debian bookworm slim in both stages, numeric
// non-root user, exec-form CMD, NODE_ENV=production.
import { readFileSync } from 'node:fs'
import { DockerfileParser, type Instruction, JSONInstruction } from 'dockerfile-ast'
import { describe, expect, test } from 'vitest'
import { fromRoot } from '../src/repo.js'

const services = [
  ['users-api', 3000],
  ['auth-api', 4000],
] as const

const text = (svc: string): string => readFileSync(fromRoot(`services/${svc}/Dockerfile`), 'utf8')
const args = (i: Instruction): string => i.getArgumentsContent() ?? ''

describe.each(services)('services/%s/Dockerfile', (svc, port) => {
  const dockerfile = DockerfileParser.parse(text(svc))
  const stages = dockerfile.getFROMs()
  const final = stages.at(-1)!
  const finalLine = final.getRange().start.line
  const finalInstructions = dockerfile
    .getInstructions()
    .filter((i) => i.getRange().start.line >= finalLine)
  const buildInstructions = dockerfile
    .getInstructions()
    .filter((i) => i.getRange().start.line < finalLine)
  const keyword = (list: Instruction[], k: string): Instruction[] =>
    list.filter((i) => i.getKeyword() === k)

  test('is multi-stage and runs on Node 24 slim (bookworm), built on the same image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(stages[0]!.getBuildStage()).toBe('build')
    const imageOf = (from: (typeof stages)[number]): string =>
      `${from.getImageName() ?? ''}:${from.getImageTag() ?? ''}`
    expect(imageOf(final)).toMatch(/^node:24(\.\d+){0,2}-bookworm-slim$/)
    // Native addons (argon2) are compiled or picked for the Node of the build stage.
    expect(imageOf(stages[0]!)).toBe(imageOf(final))
  })

  test('installs pnpm at the version in package.json, not through corepack keys', () => {
    const pkg = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as {
      packageManager: string
    }
    const version = pkg.packageManager.split('@')[1]!
    const pnpmArg = keyword(buildInstructions, 'ARG').find((a) =>
      args(a).startsWith('PNPM_VERSION='),
    )
    expect(pnpmArg && args(pnpmArg)).toBe(`PNPM_VERSION=${version}`)
    expect(text(svc)).not.toContain('COREPACK_INTEGRITY_KEYS')
  })

  test('builds the service with its workspace packages and deploys production dependencies only', () => {
    const runs = keyword(buildInstructions, 'RUN').map(args)
    expect(runs).toContain('pnpm install --frozen-lockfile --offline')
    expect(runs).toContain(`pnpm --filter ${svc}... build`)
    expect(runs).toContain(`pnpm --filter ${svc} --prod deploy --legacy /out`)
    // argon2 may compile: the build stage has a toolchain.
    expect(runs.some((r) => /python3/.test(r) && /g\+\+/.test(r) && /make/.test(r))).toBe(true)
  })

  test('the runtime stage holds only the deployed output', () => {
    const copies = keyword(finalInstructions, 'COPY').map((i) => i.getTextContent())
    expect(copies).toEqual(['COPY --from=build /out/ ./'])
    expect(keyword(finalInstructions, 'RUN').map(args).join('\n')).not.toMatch(
      /pnpm|npm (ci|install)/,
    )
  })

  test('runs as a numeric non-root user with NODE_ENV=production', () => {
    const users = keyword(finalInstructions, 'USER').map(args)
    expect(users).toHaveLength(1)
    const [uid, gid] = users[0]!.split(':')
    expect(uid).toMatch(/^[1-9]\d*$/)
    if (gid !== undefined) expect(gid).toMatch(/^[1-9]\d*$/)
    const runtimeEnv = dockerfile
      .getENVs()
      .filter((e) => e.getRange().start.line >= finalLine)
      .flatMap((e) => e.getProperties().map((p) => `${p.getName()}=${p.getValue() ?? ''}`))
    expect(runtimeEnv).toContain('NODE_ENV=production')
  })

  test('starts node directly with an exec-form CMD', () => {
    const cmds = keyword(finalInstructions, 'CMD')
    expect(cmds).toHaveLength(1)
    const cmd = cmds[0]
    // The shell form would start /bin/sh as PID 1, which does not pass SIGTERM on.
    if (!(cmd instanceof JSONInstruction))
      throw new Error(`CMD is not exec form: ${String(cmd?.getTextContent())}`)
    expect(cmd.getJSONStrings().map((s) => s.getJSONValue())).toEqual(['node', 'dist/server.js'])
    expect(keyword(finalInstructions, 'ENTRYPOINT')).toEqual([])
    expect(keyword(finalInstructions, 'EXPOSE').map(args)).toEqual([String(port)])
  })
})

test('the two Dockerfiles differ only in the service name and port', () => {
  const normalise = (svc: string, port: number): string =>
    text(svc)
      .replaceAll(svc, 'SERVICE')
      .replaceAll(`EXPOSE ${String(port)}`, 'EXPOSE PORT')
  expect(normalise('auth-api', 4000)).toBe(normalise('users-api', 3000))
})

test('.dockerignore keeps credentials and local installs out of the build context', () => {
  const lines = readFileSync(fromRoot('.dockerignore'), 'utf8').split('\n')
  for (const pattern of ['.env', '.env.*', '**/node_modules', '**/dist', '.git']) {
    expect(lines).toContain(pattern)
  }
})
