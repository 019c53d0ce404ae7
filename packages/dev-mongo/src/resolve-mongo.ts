import { start } from '@users-auth/mongo-lite'
import { findMongod, mongodVersion } from './find-mongod.js'
import { redactUri } from './mongo-uri.js'

export type MongoBackend = 'external' | 'mongodb-memory-server' | 'mongo-lite'

export interface ResolvedMongo {
  /** Connection string without a database; pick one with databaseUri(). */
  uri: string
  backend: MongoBackend
  /** Whether data outlives stop() (only an external server keeps it). */
  persistent: boolean
  /** Stops the server this call started; a no-op for an external one. */
  stop(): Promise<void>
}

export interface ResolveOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv
  /** Port for a server started here; default ephemeral. */
  port?: number
  /** Receives the one line naming the chosen backend; default stderr. */
  log?: (line: string) => void
}

/**
 * The one way tests and local runs get a MongoDB: MONGODB_URI if set; else a real mongod
 * through mongodb-memory-server, if one is on this machine already (nothing is downloaded);
 * else the in-memory mongo-lite server. Logs exactly one line saying which it chose.
 */
export async function resolveMongo(options: ResolveOptions = {}): Promise<ResolvedMongo> {
  const env = options.env ?? process.env
  const log =
    options.log ??
    ((line: string) => {
      process.stderr.write(`${line}\n`)
    })

  const external = env.MONGODB_URI?.trim()
  if (external) {
    log(`mongo: using external MongoDB at ${redactUri(external)} (from MONGODB_URI; data is kept)`)
    return { uri: external, backend: 'external', persistent: true, stop: async () => {} }
  }

  let fallbackReason = ''
  const binary = findMongod(env)
  // Checked first so that a broken binary falls back quietly, before mongodb-memory-server
  // gets to print its own warnings about it.
  const version = binary && mongodVersion(binary.path)
  if (binary && !version) {
    fallbackReason = `; ${binary.path} (from ${binary.source}) does not run as mongod`
  } else if (binary && version) {
    try {
      const resolved = await startMemoryServer(binary.path, version, options.port)
      log(
        `mongo: using mongodb-memory-server (mongod ${version} from ${binary.source}, single-node replica set) at ${resolved.uri} (data is not kept)`,
      )
      return resolved
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      fallbackReason = `; mongod at ${binary.path} did not start: ${message.split('\n')[0] ?? ''}`
    }
  }

  const server = await start({ port: options.port })
  log(`mongo: using in-memory mongo-lite at ${server.uri} (data is not kept${fallbackReason})`)
  return { uri: server.uri, backend: 'mongo-lite', persistent: false, stop: () => server.stop() }
}

/**
 * A single-node replica set rather than a standalone mongod, so that transactions work as
 * they do in production. The binary is passed explicitly, which keeps
 * mongodb-memory-server from ever trying to download one.
 */
async function startMemoryServer(
  systemBinary: string,
  version: string,
  port?: number,
): Promise<ResolvedMongo> {
  // Loaded only when needed: most runs end up on mongo-lite.
  const { MongoMemoryReplSet } = await import('mongodb-memory-server-core')
  const replSet = await MongoMemoryReplSet.create({
    binary: { systemBinary, version },
    replSet: { count: 1, storageEngine: 'wiredTiger' },
    ...(port ? { instanceOpts: [{ port }] } : {}),
  })
  return {
    uri: replSet.getUri(),
    backend: 'mongodb-memory-server',
    persistent: false,
    stop: async () => {
      await replSet.stop({ doCleanup: true })
    },
  }
}
