import { Long } from 'bson'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { start, type RunningServer } from '../src/index.js'
import { opMsg, opQuery, RawClient, rawMessage } from './wire-messages.js'

// The server seen from the wire: framing, replies, and how it survives bad input.

let server: RunningServer
beforeAll(async () => {
  server = await start()
})
afterAll(async () => {
  await server.stop()
})

async function client(): Promise<RawClient> {
  return RawClient.open(server.port)
}

/** True if the server still answers a fresh connection. */
async function stillServing(): Promise<boolean> {
  const other = await client()
  await other.send(opMsg(1, { ping: 1, $db: 'admin' }))
  const [reply] = await other.waitForReplies(1)
  other.close()
  return reply?.document.ok === 1
}

describe('mongo-lite on the wire', () => {
  it('answers the OP_QUERY handshake with OP_REPLY', async () => {
    const c = await client()
    await c.send(opQuery(5, 'admin.$cmd', { isMaster: 1, helloOk: true }))
    const [reply] = await c.waitForReplies(1)
    expect(reply).toMatchObject({ opCode: 1, responseTo: 5 })
    expect(reply?.document).toMatchObject({
      ismaster: true,
      helloOk: true,
      minWireVersion: 0,
      maxWireVersion: 21,
      logicalSessionTimeoutMinutes: 30,
      ok: 1,
    })
    expect(reply?.document).not.toHaveProperty('topologyVersion')
    c.close()
  })

  it('refuses other commands over OP_QUERY, as mongod 5.1+ does', async () => {
    const c = await client()
    await c.send(opQuery(1, 'app.$cmd', { find: 'users' }))
    const [reply] = await c.waitForReplies(1)
    expect(reply?.document).toMatchObject({ ok: 0, code: 352 })
    c.close()
  })

  it('reassembles a message sent one byte at a time', async () => {
    const c = await client()
    const message = opMsg(9, { ping: 1, $db: 'admin' })
    await c.send(...[...message].map((byte) => Buffer.from([byte])))
    const [reply] = await c.waitForReplies(1)
    expect(reply).toMatchObject({ opCode: 2013, responseTo: 9, document: { ok: 1 } })
    c.close()
  })

  it('answers several messages from one chunk in order, and none flagged moreToCome', async () => {
    const c = await client()
    await c.send(
      Buffer.concat([
        opMsg(1, { insert: 'wire', documents: [{ _id: 1 }], $db: 'wire' }),
        opMsg(2, { insert: 'wire', documents: [{ _id: 2 }], $db: 'wire' }, { flags: 2 }),
        opMsg(3, { count: 'wire', $db: 'wire' }),
      ]),
    )
    const replies = await c.waitForReplies(2)
    expect(replies.map((reply) => reply.responseTo)).toEqual([1, 3])
    expect(replies[1]?.document).toMatchObject({ n: 2, ok: 1 })
    c.close()
  })

  it('takes insert documents from a kind-1 sequence', async () => {
    const c = await client()
    await c.send(
      opMsg(1, { insert: 'seq', $db: 'wire' }, { sequences: { documents: [{ a: 1 }, { a: 2 }] } }),
    )
    const [reply] = await c.waitForReplies(1)
    expect(reply?.document).toEqual({ n: 2, ok: 1 })
    c.close()
  })

  it('answers an unknown command with CommandNotFound', async () => {
    const c = await client()
    await c.send(opMsg(1, { frobnicate: 1, $db: 'admin' }))
    const [reply] = await c.waitForReplies(1)
    expect(reply?.document).toEqual({
      ok: 0,
      errmsg: "no such command: 'frobnicate'",
      code: 59,
      codeName: 'CommandNotFound',
    })
    c.close()
  })

  it('sends cursor ids as int64', async () => {
    const c = await client()
    await c.send(opMsg(1, { find: 'none', filter: {}, $db: 'wire' }))
    const [reply] = await c.waitForReplies(1)
    const cursor = reply?.document.cursor as { id: unknown }
    // Replies are read with promoteLongs off: an int64 arrives as a Long, an int32 as a number.
    expect(cursor.id).toEqual(Long.ZERO)
    c.close()
  })

  const oversized = Buffer.alloc(16)
  oversized.writeInt32LE(0x7fffffff)
  const negative = Buffer.alloc(16)
  negative.writeInt32LE(-5)
  const invalidBson = opMsg(1, { ping: 1, $db: 'admin' })
  invalidBson.writeUInt8(0x7f, 25) // the type byte of the first field
  const truncated = opMsg(1, { ping: 1, $db: 'admin' })
  truncated.writeInt32LE(truncated.length - 8)

  it.each([
    ['an oversized length header', oversized],
    ['a negative length', negative],
    ['an unknown opcode', rawMessage(1, 9999, Buffer.alloc(8))],
    ['invalid BSON', invalidBson],
    ['a length that cuts its BSON short', truncated.subarray(0, truncated.length - 8)],
  ])('closes a connection that sends %s, and keeps serving others', async (_name, garbage) => {
    const c = await client()
    await c.send(garbage)
    await c.closed
    expect(c.replies).toEqual([])
    expect(await stillServing()).toBe(true)
  })
})
