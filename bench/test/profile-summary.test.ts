import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { groupOf, summarizeProfile } from '../src/profile-summary.js'

const root = '/repo'
const frame = (url: string, functionName = 'f') => ({ url, functionName, lineNumber: 0 })

describe('groupOf', () => {
  it('names the package of code under node_modules, scoped or not, pnpm layout included', () => {
    expect(
      groupOf(
        frame('file:///repo/node_modules/.pnpm/fastify@5.1.0/node_modules/fastify/lib/reply.js'),
        root,
      ),
    ).toBe('fastify')
    expect(
      groupOf(frame('file:///repo/node_modules/.pnpm/x/node_modules/@fastify/jwt/jwt.js'), root),
    ).toBe('@fastify/jwt')
  })

  it('names workspace code by its package folder, node by module, V8 by its own names', () => {
    expect(groupOf(frame('file:///repo/services/users-api/src/app.ts'), root)).toBe(
      'services/users-api',
    )
    expect(groupOf(frame('node:internal/streams/writable'), root)).toBe('node:internal/streams')
    expect(groupOf(frame('node:net'), root)).toBe('node:net')
    expect(groupOf(frame('', '(garbage collector)'), root)).toBe('(garbage collector)')
    expect(groupOf(frame('', 'writev'), root)).toBe('(V8 builtins)')
  })
})

describe('summarizeProfile', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('counts self and inclusive time within the window, idle left out of the shares', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-profile-'))
    dirs.push(dir)
    const node = (id: number, name: string, url: string, children: number[] = []) => ({
      id,
      callFrame: { functionName: name, url, lineNumber: 0 },
      children,
    })
    const profile = {
      nodes: [
        node(1, '(root)', '', [2, 3]),
        node(2, '(idle)', ''),
        node(3, 'handler', 'file:///repo/services/users-api/src/app.ts', [4]),
        node(4, 'parse', 'file:///repo/node_modules/bson/lib/bson.js'),
      ],
      startTime: 1000,
      // At 1100, 1200, 1300, 1400, 1500: idle, handler, parse, parse, handler (outside window).
      samples: [2, 3, 4, 4, 3],
      timeDeltas: [100, 100, 100, 100, 100],
    }
    const file = join(dir, 'p.cpuprofile')
    await writeFile(file, JSON.stringify(profile))
    const summary = await summarizeProfile(file, root, { fromUs: 1050, toUs: 1450 })
    expect(summary.samples).toBe(4)
    expect(summary.busy).toBe(3)
    expect(summary.tables).toEqual({
      'self time by package / module': [
        ['bson', 2],
        ['services/users-api', 1],
      ],
      'inclusive time by package / module': [
        ['services/users-api', 3],
        ['bson', 2],
      ],
      'self time by function': [
        ['parse bson/lib/bson.js:1', 2],
        ['handler services/users-api/src/app.ts:1', 1],
      ],
      'inclusive time by function': [
        ['handler services/users-api/src/app.ts:1', 3],
        ['parse bson/lib/bson.js:1', 2],
      ],
    })
  })
})
