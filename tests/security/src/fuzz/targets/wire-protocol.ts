import { connect } from 'node:net'
import {
  Binary,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  serialize,
  Timestamp,
  type Document,
} from 'bson'
import { start, type RunningServer } from '@users-auth/mongo-lite'
// The parser and dispatcher are internal to mongo-lite (its package exports only `start`):
// the fuzz target reaches them by path, as the server itself does.
import { CursorRegistry } from '../../../../../packages/mongo-lite/src/cursors.js'
import { runCommand, type ServerState } from '../../../../../packages/mongo-lite/src/dispatch.js'
import { Storage } from '../../../../../packages/mongo-lite/src/storage.js'
import { Transactions } from '../../../../../packages/mongo-lite/src/transactions.js'
import { Sweeper } from '../../../../../packages/mongo-lite/src/ttl.js'
import {
  encodeMsg,
  encodeReply,
  FrameReader,
  OpCode,
  parseMessage,
  ProtocolError,
} from '../../../../../packages/mongo-lite/src/wire-protocol.js'
import type { FuzzTarget } from '../engine.js'

// mongo-lite's wire protocol, as its server uses it: FrameReader cuts the byte stream,
// parseMessage decodes OP_MSG / OP_QUERY (BSON included), runCommand answers, and the reply is
// encoded. The documented rejection is ProtocolError from the framing and parsing (the server
// then closes the connection); runCommand promises never to throw, and a reply must encode.
// Every `checkEvery` runs the input also goes over TCP to a live server, which must still
// answer a ping on a fresh connection.

function header(length: number, requestId: number, opCode: number): Buffer {
  const buffer = Buffer.alloc(16)
  buffer.writeInt32LE(length, 0)
  buffer.writeInt32LE(requestId, 4)
  buffer.writeInt32LE(opCode, 12)
  return buffer
}

function opMsg(body: Document, flags = 0, sequences: Record<string, Document[]> = {}): Buffer {
  const flagBytes = Buffer.alloc(4)
  flagBytes.writeUInt32LE(flags)
  const sections: Buffer[] = [Buffer.from([0]), Buffer.from(serialize(body))]
  for (const [name, documents] of Object.entries(sequences)) {
    const payload = Buffer.concat([
      Buffer.from(`${name}\0`),
      ...documents.map((d) => Buffer.from(serialize(d))),
    ])
    const size = Buffer.alloc(4)
    size.writeInt32LE(payload.length + 4)
    sections.push(Buffer.from([1]), size, payload)
  }
  const rest = Buffer.concat([flagBytes, ...sections])
  return Buffer.concat([header(16 + rest.length, 1, OpCode.Msg), rest])
}

function opQuery(namespace: string, query: Document): Buffer {
  const skipReturn = Buffer.alloc(8)
  skipReturn.writeInt32LE(-1, 4)
  const rest = Buffer.concat([
    Buffer.alloc(4),
    Buffer.from(`${namespace}\0`),
    skipReturn,
    Buffer.from(serialize(query)),
  ])
  return Buffer.concat([header(16 + rest.length, 1, OpCode.Query), rest])
}

const seeds = (): Buffer[] => [
  opQuery('admin.$cmd', { isMaster: 1, client: { driver: { name: 'fuzz' } } }),
  opQuery('admin.$cmd', { $query: { hello: 1 }, $readPreference: { mode: 'primary' } }),
  opMsg({ hello: 1, $db: 'admin' }),
  opMsg({ ping: 1, $db: 'admin' }, 2),
  opMsg({ insert: 'users', $db: 'app', ordered: true }, 0, {
    documents: [{ _id: 1, email: 'a@b.co', roles: ['user'] }],
  }),
  opMsg({
    find: 'users',
    filter: { email: { $regex: '^a', $options: 'i' } },
    sort: { _id: -1 },
    limit: 5,
    $db: 'app',
  }),
  opMsg({
    update: 'users',
    $db: 'app',
    updates: [{ q: { _id: 1 }, u: { $set: { 'a.b': 1 }, $push: { roles: 'x' } }, upsert: true }],
  }),
  opMsg({ delete: 'users', $db: 'app', deletes: [{ q: {}, limit: 0 }] }),
  opMsg({
    findAndModify: 'sessions',
    query: { _id: 'x' },
    update: { $set: { t: new Date(0) } },
    new: true,
    upsert: true,
    $db: 'app',
  }),
  opMsg({
    aggregate: 'users',
    pipeline: [{ $match: {} }, { $group: { _id: '$email', n: { $sum: 1 } } }],
    cursor: {},
    $db: 'app',
  }),
  opMsg({
    createIndexes: 'users',
    indexes: [{ key: { email: 1 }, name: 'email_1', unique: true }],
    $db: 'app',
  }),
  opMsg({ getMore: 1n, collection: 'users', $db: 'app' }),
  opMsg({
    startTransaction: true,
    autocommit: false,
    txnNumber: 1,
    lsid: { id: 'x' },
    insert: 't',
    documents: [{}],
    $db: 'app',
  }),
  opMsg({ ping: 1, $db: 'admin' }, 1),
]

const dictionary = [
  ...[
    '$db',
    'admin',
    'insert',
    'find',
    'update',
    'delete',
    'aggregate',
    'getMore',
    'killCursors',
    'createIndexes',
    'dropIndexes',
    'findAndModify',
    'listIndexes',
    'listCollections',
    'drop',
    'dropDatabase',
    'hello',
    'isMaster',
    'documents',
    'updates',
    'deletes',
    'pipeline',
    'filter',
    'sort',
    'projection',
    '$lookup',
    '$regex',
    '$set',
    '$setOnInsert',
    '$push',
    '$slice',
    '$each',
    '__proto__',
    'constructor',
    'prototype',
    'lsid',
    'txnNumber',
    'commitTransaction',
    'abortTransaction',
  ].map((word) => Buffer.from(`${word}\0`)),
  Buffer.from([0xdd, 0x07, 0, 0]),
  Buffer.from([0xd4, 0x07, 0, 0]),
  Buffer.from([1, 0, 0, 0]),
  Buffer.from([2, 0, 0, 0]),
  Buffer.from([0, 0, 1, 0]),
  ...[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0d, 0x10, 0x11, 0x12, 0x13, 0x7f,
    0xff,
  ].map((type) => Buffer.from([type])),
]

function freshState(): ServerState {
  const storage = new Storage()
  return {
    storage,
    cursors: new CursorRegistry(),
    transactions: new Transactions(storage),
    sweeper: new Sweeper(() => undefined, 60_000),
  }
}

/** Resolves when a fresh connection gets an answer to `ping`; rejects after `timeoutMs`. */
function ping(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`mongo-lite did not answer a ping within ${String(timeoutMs)} ms`))
    }, timeoutMs)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.once('data', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    })
    socket.write(opMsg({ ping: 1, $db: 'admin' }))
  })
}

/** Sends bytes on their own connection and waits until the server answers or hangs up. */
function deliver(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, 100)
    socket.on('error', done)
    socket.on('close', done)
    socket.on('data', done)
    socket.write(bytes)
  })
}

/**
 * The message with its first BSON document's size set to what follows it: OP_MSG's body
 * section (kind 0 right after the flags) or OP_QUERY's query after its namespace.
 */
function withDocumentLength(message: Buffer): Buffer {
  const fixed = Buffer.from(message)
  if (fixed.length < 26) return fixed
  const opCode = fixed.readInt32LE(12)
  let at = -1
  if (opCode === OpCode.Msg && fixed[20] === 0) at = 21
  if (opCode === OpCode.Query) {
    const nameEnd = fixed.indexOf(0, 20)
    if (nameEnd > 0) at = nameEnd + 9
  }
  if (at < 0 || at + 5 > fixed.length) return fixed
  const checksum = opCode === OpCode.Msg && (fixed.readUInt32LE(16) & 1) === 1 ? 4 : 0
  fixed.writeInt32LE(fixed.length - at - checksum, at)
  return fixed
}

const words = [
  'insert',
  'find',
  'update',
  'delete',
  'aggregate',
  'getMore',
  'killCursors',
  'createIndexes',
  'dropIndexes',
  'findAndModify',
  'listIndexes',
  'listCollections',
  'count',
  'distinct',
  'drop',
  'dropDatabase',
  'create',
  'hello',
  'ping',
  'buildInfo',
  'serverStatus',
  'getParameter',
  'setParameter',
  'endSessions',
  'commitTransaction',
  'abortTransaction',
  'users',
  'sessions',
  '$db',
  'documents',
  'updates',
  'deletes',
  'filter',
  'sort',
  'projection',
  'pipeline',
  'cursor',
  'q',
  'u',
  'upsert',
  'multi',
  'key',
  'name',
  'unique',
  'expireAfterSeconds',
  'partialFilterExpression',
  'collation',
  'arrayFilters',
  'new',
  'remove',
  'fields',
  'batchSize',
  'limit',
  'skip',
  'lsid',
  'txnNumber',
  'autocommit',
  'startTransaction',
  '_id',
  'a.b',
  'a.$',
  'a.$[x]',
  '__proto__',
  'constructor',
  'prototype',
  '$set',
  '$unset',
  '$inc',
  '$push',
  '$each',
  '$slice',
  '$pull',
  '$addToSet',
  '$setOnInsert',
  '$rename',
  '$match',
  '$group',
  '$lookup',
  '$project',
  '$sort',
  '$limit',
  '$unwind',
  '$regex',
  '$options',
  '$in',
  '$ne',
  '$gt',
  '$exists',
  '$expr',
  '$where',
  '$and',
  '$or',
  '$not',
  '$elemMatch',
  '$size',
  '$type',
  '$natural',
]

/** BSON values of every type, and shapes commands care about. */
function randomValue(rand: () => number, depth = 0): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T
  const word = () => pick(words)
  switch (Math.floor(rand() * (depth > 2 ? 14 : 17))) {
    case 0:
      return pick([
        0,
        -1,
        1,
        2 ** 31,
        -(2 ** 31),
        2 ** 53,
        0.5,
        -0,
        Number.NaN,
        Infinity,
        -Infinity,
      ])
    case 1:
      return new Int32(pick([0, -1, 1, 2147483647, -2147483648]))
    case 2:
      return Long.fromString(pick(['0', '-1', '9223372036854775807', '-9223372036854775808']))
    case 3:
      return new Double(pick([0, -0, 1e308, Number.NaN]))
    case 4:
      return Decimal128.fromString(
        pick(['0', 'NaN', '-Infinity', '1E+6144', '9.999999999999999999999999999999999E+6144']),
      )
    case 5:
      return word()
    case 6:
      return pick(['', 'x'.repeat(300), '\u0000', 'a.b.c', '$', '(a+)+$', 'users.$cmd'])
    case 7:
      return pick([true, false, null, undefined])
    case 8:
      return new Date(pick([0, -1, 8.64e15, Date.now()]))
    case 9:
      return new ObjectId()
    case 10:
      return new Binary(Buffer.from([1, 2, 3]), pick([0, 3, 4, 5, 0x80]))
    case 11:
      return pick([
        new BSONRegExp('(a+)+$', 'i'),
        /^a.*$/m,
        new MinKey(),
        new MaxKey(),
        new Timestamp({ t: 1, i: 1 }),
        new Code('function(){}'),
      ])
    case 12:
      return { [word()]: randomValue(rand, depth + 1) }
    case 13:
      return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1))
    default: {
      const document: Document = {}
      for (let i = Math.floor(rand() * 4); i > 0; i--)
        document[word()] = randomValue(rand, depth + 1)
      return document
    }
  }
}

/** Changes one place in a document tree: a value replaced, a field added or removed. */
function mutateDocument(document: Document, rand: () => number): void {
  let target: Document = document
  for (let depth = 0; depth < 3; depth++) {
    const nested = Object.values(target).filter(
      (v): v is Document =>
        typeof v === 'object' && v !== null && !(v instanceof Date) && !('_bsontype' in v),
    )
    if (nested.length === 0 || rand() < 0.4) break
    target = nested[Math.floor(rand() * nested.length)] ?? target
  }
  const keys = Object.keys(target)
  const key = keys[Math.floor(rand() * keys.length)]
  const choice = rand()
  if (key !== undefined && choice < 0.45) target[key] = randomValue(rand)
  else if (key !== undefined && choice < 0.6 && key !== '$db') Reflect.deleteProperty(target, key)
  else target[words[Math.floor(rand() * words.length)] ?? 'x'] = randomValue(rand)
}

/** Parses the input as a message and re-encodes it as OP_MSG with its command mutated. */
function mutateCommand(input: Buffer, rand: () => number): Buffer | undefined {
  const message = Buffer.from(input)
  if (message.length < 21) return undefined
  message.writeInt32LE(message.length, 0)
  let command: Document
  try {
    command = parseMessage(withDocumentLength(message)).command
  } catch {
    return undefined
  }
  for (let i = 1 + Math.floor(rand() * 3); i > 0; i--) mutateDocument(command, rand)
  if (rand() < 0.2) {
    // Another command name first, keeping the rest of the document.
    const [first] = Object.keys(command)
    if (first) Reflect.deleteProperty(command, first)
    command = { [words[Math.floor(rand() * 25)] ?? 'ping']: randomValue(rand), ...command }
  }
  const flags = rand() < 0.1 ? 2 : 0
  try {
    return opMsg(command, flags)
  } catch {
    return undefined
  }
}

const counts = { rejected: 0, parsed: 0 }

/** The documented rejection is counted (the server closes the connection); all else escapes. */
function rejecting<T>(step: () => T): T | undefined {
  try {
    return step()
  } catch (error) {
    if (error instanceof ProtocolError) {
      counts.rejected++
      return undefined
    }
    throw error
  }
}

export async function wireProtocolTarget(): Promise<FuzzTarget> {
  const server: RunningServer = await start({ port: 0 })
  let state = freshState()
  let runs = 0
  let pending: Buffer[] = []
  return {
    name: 'mongo-lite-wire',
    seeds: seeds(),
    dictionary,
    maxLength: 4096,
    checkEvery: 1000,
    covers: (url) => url.includes('/packages/mongo-lite/src/') || url.includes('/bson/'),
    isRejection: (error) => error instanceof ProtocolError,
    run(input) {
      runs++
      // A fresh store now and then, so state built by earlier inputs cannot grow without end.
      if (runs % 2000 === 0) state = freshState()
      if (runs % 50 === 0) pending.push(input)
      // 1. Framing: the stream as received, cut in two at a place the input chooses.
      const cut = input.length > 0 ? (input[input.length - 1] ?? 0) % (input.length + 1) : 0
      const reader = new FrameReader()
      const frames: Buffer[] = []
      rejecting(() => {
        frames.push(...reader.push(input.subarray(0, cut)), ...reader.push(input.subarray(cut)))
      })
      // 2. The message with consistent length fields (header, then the first document), so
      //    mutations get past the framing and into the section and BSON parsers.
      const message = Buffer.from(input)
      if (message.length >= 4) message.writeInt32LE(message.length, 0)
      for (const frame of [...frames, message, withDocumentLength(message)]) {
        const request = rejecting(() => parseMessage(frame))
        if (!request) continue
        counts.parsed++
        const reply = runCommand(state, request, 1)
        const encode = request.opCode === OpCode.Query ? encodeReply : encodeMsg
        encode(2, request.requestId, reply)
      }
    },
    async check() {
      // The same inputs over a real socket: the server must survive them and keep answering.
      const batch = pending
      pending = []
      await Promise.all(batch.map((bytes) => deliver(server.port, bytes)))
      await ping(server.port, 2000)
    },
    mutate: mutateCommand,
    notes: () =>
      `${String(counts.parsed)} messages parsed and answered, ${String(counts.rejected)} refused with ProtocolError`,
    async close() {
      await server.stop()
    },
  }
}
