import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveMongo, type ResolvedMongo } from '../src/index.js'
import { findMongod } from '../src/find-mongod.js'

const scratch = mkdtempSync(join(tmpdir(), 'dev-mongo-'))
/** An env with no mongod anywhere: empty PATH and an empty mongodb-memory-server cache. */
const EMPTY = join(scratch, 'empty')
mkdirSync(EMPTY)
const noMongod = { PATH: EMPTY, MONGOMS_DOWNLOAD_DIR: EMPTY }

function fakeExecutable(dir: string, name: string, script = 'exit 1'): string {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, name)
  writeFileSync(path, `#!/bin/sh\n${script}\n`)
  chmodSync(path, 0o755)
  return path
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (typeof address !== 'object' || !address) throw new Error('no port')
  return address.port
}

const started: ResolvedMongo[] = []
async function resolveWith(env: NodeJS.ProcessEnv, port?: number) {
  const lines: string[] = []
  const mongo = await resolveMongo({ env, port, log: (line) => lines.push(line) })
  started.push(mongo)
  return { mongo, lines }
}
afterAll(async () => {
  await Promise.all(started.map((mongo) => mongo.stop()))
})

describe('resolveMongo', () => {
  it('uses MONGODB_URI first, without touching it, and hides its password in the log', async () => {
    const env = {
      ...noMongod,
      MONGODB_URI: 'mongodb://app:s3cret@db.internal:27017/users',
      MONGOMS_SYSTEM_BINARY: '/usr/bin/mongod',
    }
    const { mongo, lines } = await resolveWith(env)
    expect(mongo).toMatchObject({
      uri: 'mongodb://app:s3cret@db.internal:27017/users',
      backend: 'external',
      persistent: true,
    })
    expect(lines).toEqual([
      'mongo: using external MongoDB at mongodb://app:***@db.internal:27017/users (from MONGODB_URI; data is kept)',
    ])
    await mongo.stop() // a no-op: nothing to reach
  })

  it('starts mongo-lite when no mongod is available, on the port asked for', async () => {
    const port = await freePort()
    const { mongo, lines } = await resolveWith(noMongod, port)
    expect(mongo).toMatchObject({
      uri: `mongodb://127.0.0.1:${port}`,
      backend: 'mongo-lite',
      persistent: false,
    })
    expect(lines).toEqual([
      `mongo: using in-memory mongo-lite at mongodb://127.0.0.1:${port} (data is not kept)`,
    ])
    const client = await new MongoClient(mongo.uri).connect()
    expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 })
    await client.close()
  })

  it('tries a mongod before mongo-lite, and says why it fell back', async () => {
    const broken = fakeExecutable(join(scratch, 'bin'), 'mongod')
    const { mongo, lines } = await resolveWith({ ...noMongod, PATH: join(scratch, 'bin') })
    expect(mongo.backend).toBe('mongo-lite')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^mongo: using in-memory mongo-lite at mongodb:\/\/127\.0\.0\.1:\d+ /)
    expect(lines[0]).toContain(`${broken} (from PATH) does not run as mongod`)
  })

  it('falls back from a MONGOMS_SYSTEM_BINARY that does not exist', async () => {
    const { mongo, lines } = await resolveWith({
      ...noMongod,
      MONGOMS_SYSTEM_BINARY: join(EMPTY, 'nope'),
    })
    expect(mongo.backend).toBe('mongo-lite')
    expect(lines[0]).toContain('(from MONGOMS_SYSTEM_BINARY) does not run as mongod')
  })
})

describe('findMongod', () => {
  it('prefers MONGOMS_SYSTEM_BINARY, then PATH, then the newest cached binary', () => {
    const bin = join(scratch, 'find-bin')
    const cache = join(scratch, 'find-cache')
    const onPath = fakeExecutable(bin, 'mongod')
    fakeExecutable(cache, 'mongod-x64-debian12-7.0.14')
    const newest = fakeExecutable(cache, 'mongod-x64-debian12-8.0.4')
    writeFileSync(join(cache, 'mongod-x64-debian12-9.0.0'), '') // not executable: ignored

    expect(findMongod({ MONGOMS_SYSTEM_BINARY: '/opt/mongod', PATH: bin })).toEqual({
      path: '/opt/mongod',
      source: 'MONGOMS_SYSTEM_BINARY',
    })
    expect(findMongod({ PATH: bin, MONGOMS_DOWNLOAD_DIR: cache })).toEqual({
      path: onPath,
      source: 'PATH',
    })
    expect(findMongod({ PATH: EMPTY, MONGOMS_DOWNLOAD_DIR: cache })).toEqual({
      path: newest,
      source: 'mongodb-memory-server cache',
    })
    expect(findMongod(noMongod)).toBeUndefined()
  })
})
