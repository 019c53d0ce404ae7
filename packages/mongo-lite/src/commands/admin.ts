import { CommandError } from '../errors.js'
import { MAX_MESSAGE_BYTES } from '../wire-protocol.js'
import type { CommandContext, CommandHandler } from './context.js'

const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
const VERSION = '7.0.0'
const startedAt = Date.now()

/**
 * hello and its legacy spelling. No `topologyVersion`: without it drivers poll with plain
 * hello instead of holding a streaming (awaitable) hello open. `logicalSessionTimeoutMinutes`
 * makes drivers send sessions, which transactions need.
 */
function hello({ command, name, connectionId }: CommandContext): Record<string, unknown> {
  const legacy = name !== 'hello'
  return {
    ...(command.helloOk === true ? { helloOk: true } : {}),
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
  }
}

function buildInfo(): Record<string, unknown> {
  return {
    version: VERSION,
    gitVersion: 'mongo-lite',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
    javascriptEngine: 'none',
    storageEngines: ['mongo-lite'],
    modules: [],
  }
}

/** Only the TTL monitor's interval is a settable parameter here. */
function setParameter({ command, sweeper }: CommandContext): Record<string, unknown> {
  const value = command.ttlMonitorSleepSecs
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    const [, parameter = ''] = Object.keys(command)
    throw new CommandError('BadValue', `attempted to set unrecognized parameter [${parameter}]`)
  }
  const was = sweeper.intervalMs / 1000
  sweeper.intervalMs = value * 1000
  return { was }
}

function getParameter({ command, sweeper }: CommandContext): Record<string, unknown> {
  const all = command.getParameter === '*'
  return {
    ...(all || 'ttlMonitorSleepSecs' in command
      ? { ttlMonitorSleepSecs: sweeper.intervalMs / 1000 }
      : {}),
    ...(all || 'featureCompatibilityVersion' in command
      ? { featureCompatibilityVersion: { version: '7.0' } }
      : {}),
  }
}

function listDatabases({ command, storage }: CommandContext): Record<string, unknown> {
  const names = storage.databaseNames().sort()
  const databases =
    command.nameOnly === true
      ? names.map((name) => ({ name }))
      : names.map((name) => ({
          name,
          sizeOnDisk: 0,
          empty: storage.collections(name).length === 0,
        }))
  return { databases, totalSize: 0, totalSizeMb: 0 }
}

function serverStatus(): Record<string, unknown> {
  const uptimeMillis = Date.now() - startedAt
  return {
    process: 'mongo-lite',
    version: VERSION,
    pid: process.pid,
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis,
    localTime: new Date(),
  }
}

export const adminCommands: Record<string, CommandHandler> = {
  hello,
  isMaster: hello,
  ismaster: hello,
  ping: () => ({}),
  buildInfo,
  buildinfo: buildInfo,
  setParameter,
  getParameter,
  listDatabases,
  serverStatus,
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] } }),
  whatsmyuri: () => ({ you: 'unknown' }),
}
