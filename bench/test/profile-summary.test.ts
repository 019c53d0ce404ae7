import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { groupOf, summarizeProfile } from '../src/profile-summary.js'

const frame = (url: string, functionName = 'f') => ({ url, functionName, lineNumber: 0 })
const node = (id: number, functionName: string, url: string, children: number[] = []) => ({
  ...{ id, callFrame: { functionName, url, lineNumber: 0 }, children },
})

describe('groupOf', () => {
  it('names npm packages (pnpm layout, scoped or not), workspace modules, node and V8', () => {
    const groups = Object.entries({
      'file:///repo/node_modules/.pnpm/fastify@5.1.0/node_modules/fastify/lib/reply.js': 'fastify',
      'file:///repo/node_modules/.pnpm/x/node_modules/@fastify/jwt/jwt.js': '@fastify/jwt',
      'file:///repo/services/users-api/src/app.ts': 'services/users-api',
      'node:internal/streams/writable': 'node:internal/streams',
      'node:net': 'node:net',
    })
    for (const [url, group] of groups) expect(groupOf(frame(url), '/repo')).toBe(group)
    expect(groupOf(frame('', '(garbage collector)'), '/repo')).toBe('(garbage collector)')
    expect(groupOf(frame('', 'writev'), '/repo')).toBe('(V8 builtins)')
  })
})

describe('summarizeProfile', () => {
  it('counts self and inclusive time within the window, idle left out of the shares', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-profile-'))
    const file = join(dir, 'p.cpuprofile')
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
    await writeFile(file, JSON.stringify(profile))
    const summary = await summarizeProfile(file, '/repo', { fromUs: 1050, toUs: 1450 })
    await rm(dir, { recursive: true })
    const [handler, parse] = ['handler services/users-api/src/app.ts:1', 'parse bson/lib/bson.js:1']
    expect(summary).toEqual({
      samples: 4,
      busy: 3,
      tables: {
        'self time by package / module': [
          ['bson', 2],
          ['services/users-api', 1],
        ],
        'inclusive time by package / module': [
          ['services/users-api', 3],
          ['bson', 2],
        ],
        'self time by function': [
          [parse, 2],
          [handler, 1],
        ],
        'inclusive time by function': [
          [handler, 3],
          [parse, 2],
        ],
      },
    })
  })
})
