import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { once } from 'node:events'
import { MongoClient, ObjectId } from 'mongodb'

// CPU of the mongo-lite process per common operation, driven by the official driver over one
// connection: `pnpm --filter @users-auth/mongo-lite bench:ops [--count 2000] [--only ping,...]
// [--prof DIR] [--src OTHER_SRC_DIR]`. The server's CPU is read from /proc/<pid>/stat, so other
// processes' CPU does not count; contention still adds noise, so compare medians of runs
// alternating between the versions (--src: a copy of src/ whose imports resolve, e.g. with a
// node_modules link to this package's). Not a test, and not part of the built package.

const args = process.argv.slice(2)
const option = (name: string): string | undefined => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const COUNT = Number(option('--count') ?? 2000)
const profileDir = option('--prof')
/** Another copy of src/ to measure (e.g. the previous version), for before/after runs. */
const sourceDir = option('--src') ?? 'src'
/** Comma-separated names of the phases to run (all by default); inserts always run. */
const only = option('--only')?.split(',')

const TICKS_PER_MS = 100 / 1000 // USER_HZ

/** [user, system] CPU of a process so far, in ms. */
function cpuMs(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return [Number(fields[11]) / TICKS_PER_MS, Number(fields[12]) / TICKS_PER_MS]
}

async function main(): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@users-auth/source',
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      `${sourceDir}/cli.ts`,
      '--port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const pid = child.pid as number
  const [first] = (await once(child.stdout, 'data')) as [Buffer]
  const uri = /mongodb:\/\/\S+/.exec(first.toString())?.[0]
  if (!uri) throw new Error(`unexpected output: ${first.toString()}`)
  const client = new MongoClient(`${uri}/bench`, { maxPoolSize: 1 })
  await client.connect()
  const users = client.db('bench').collection('users')
  await users.createIndexes([{ key: { email: 1 }, unique: true }])

  const ids: ObjectId[] = []
  const results: [string, number, number][] = []
  const phase = async (name: string, run: (i: number) => Promise<unknown>): Promise<void> => {
    if (only && !only.includes(name) && name !== 'insertOne') return
    const [user, system] = cpuMs(pid)
    for (let i = 0; i < COUNT; i++) await run(i)
    const [userAfter, systemAfter] = cpuMs(pid)
    results.push([
      name,
      ((userAfter - user) * 1000) / COUNT,
      ((systemAfter - system) * 1000) / COUNT,
    ])
  }

  // Warm-up, so the JIT has settled before anything is counted.
  const warm = client.db('bench').collection('warm')
  await warm.createIndexes([{ key: { email: 1 }, unique: true }])
  for (let i = 0; i < 2000; i++) {
    const email = `warm${i}@example.com`
    const { insertedId } = await warm.insertOne({ email, expiresAt: new Date() })
    await warm.findOne({ _id: insertedId })
    await warm.findOne({ email })
    await warm.updateOne({ _id: insertedId }, { $set: { seen: new Date() }, $inc: { n: 1 } })
    await warm.deleteOne({ _id: insertedId })
  }

  // The floor: a command that does nothing, so only the wire and the dispatch cost.
  await phase('ping', () => client.db('bench').command({ ping: 1 }))
  await phase('insertOne', async (i) => {
    const { insertedId } = await users.insertOne({
      email: `user${i}@example.com`,
      name: `User ${i}`,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g',
      roles: ['user'],
      emailVerified: false,
      failedLogins: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
      __v: 0,
    })
    ids.push(insertedId)
  })
  await phase('findOne _id', (i) => users.findOne({ _id: ids[i] }))
  await phase('findOne _id+fields', (i) =>
    users.findOne({ _id: ids[i] }, { projection: { email: 1, name: 1, roles: 1, __v: 1 } }),
  )
  await phase('findOne email', (i) => users.findOne({ email: `user${i}@example.com` }))
  await phase('updateOne _id', (i) =>
    users.updateOne(
      { _id: ids[i] },
      { $set: { lastLoginAt: new Date(), failedLogins: 0 }, $inc: { __v: 1 } },
    ),
  )
  await phase('deleteOne _id', (i) => users.deleteOne({ _id: ids[i] }))

  await client.close()
  child.kill('SIGINT')
  await once(child, 'exit')
  for (const [name, user, system] of results) {
    const total = (user + system).toFixed(0).padStart(5)
    process.stdout.write(
      `${name.padEnd(18)} ${total} µs/op (user ${user.toFixed(0)}, system ${system.toFixed(0)})\n`,
    )
  }
}

await main()
