import { connect } from 'node:net'
import { BSON, MongoClient } from 'mongodb'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { useDatabase } from './compat-env.js'

// Bytes no driver would send. Whatever a server answers (mongo-lite hangs up; mongod may
// also answer with an error), it must not succeed, and it must keep serving everyone else.

const uri = useDatabase('robustness')
let client: MongoClient

beforeAll(async () => {
  client = await new MongoClient(uri).connect()
})
afterAll(async () => {
  await client.close()
})

/** host and port of the first server in the URI (raw sockets cannot follow +srv). */
function firstHost(): { host: string; port: number } {
  const match = /^mongodb:\/\/(?:[^@/]*@)?([^,/?:]+|\[[^\]]+\])(?::(\d+))?/.exec(uri)
  if (!match) throw new Error(`robustness checks need a mongodb://host:port URI, got ${uri}`)
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2] ?? 27017) }
}

function message(opCode: number, body: Buffer, length = 16 + body.length): Buffer {
  const header = Buffer.alloc(16)
  header.writeInt32LE(length, 0)
  header.writeInt32LE(1, 4)
  header.writeInt32LE(opCode, 12)
  return Buffer.concat([header, body])
}

function opMsgBody(): Buffer {
  return Buffer.concat([Buffer.alloc(5), Buffer.from(BSON.serialize({ ping: 1, $db: 'admin' }))])
}

/**
 * Sends `bytes` on a fresh connection and collects what comes back until the server closes
 * the connection or a second passes without it doing so.
 */
async function sendGarbage(bytes: Buffer): Promise<Buffer> {
  const { host, port } = firstHost()
  const socket = connect(port, host)
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
  })
  socket.on('error', () => undefined)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.write(bytes)
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  socket.destroy()
  return Buffer.concat(chunks)
}

/** The `ok` of the reply the server sent, if it sent one that can be read. */
function replyOk(received: Buffer): unknown {
  if (received.length < 21) return undefined
  const opCode = received.readInt32LE(12)
  try {
    const body = received.subarray(opCode === 1 ? 36 : 21, received.readInt32LE(0))
    return BSON.deserialize(body).ok
  } catch {
    return undefined // not a reply a driver could take for success either
  }
}

const invalidBson = opMsgBody()
invalidBson.writeUInt8(0x7f, 9) // the type byte of the first field: no such BSON type

it.each([
  ['a length header over 48 MB', message(2013, opMsgBody(), 0x7fffffff)],
  ['a negative length', message(2013, opMsgBody(), -1)],
  ['a length shorter than a header', message(2013, opMsgBody(), 4)],
  ['an unknown opcode', message(4242, opMsgBody())],
  ['invalid BSON', message(2013, invalidBson)],
  ['a BSON size larger than the message', message(2013, opMsgBody().subarray(0, 20))],
])('survives %s', async (_name, garbage) => {
  const received = await sendGarbage(garbage)
  // mongo-lite hangs up (checked in its own tests); mongod may instead answer with an error
  // or ignore the bytes. Neither may look like success.
  expect(replyOk(received)).not.toBe(1)
  // The connection the driver already had, and a new one, both still work.
  expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 })
  const fresh = await new MongoClient(uri).connect()
  expect(await fresh.db().collection('after').insertOne({ ok: true })).toMatchObject({
    acknowledged: true,
  })
  await fresh.close()
})
