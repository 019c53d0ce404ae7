import { serialize } from 'bson'
import { describe, expect, it } from 'vitest'
import { FrameReader, parseMessage, ProtocolError } from '../src/wire-protocol.js'
import { opMsg, opQuery, rawMessage } from './wire-messages.js'

describe('FrameReader', () => {
  it('returns a message only once all of its bytes have arrived', () => {
    const message = opMsg(1, { ping: 1, $db: 'admin' })
    const reader = new FrameReader()
    const frames = [...message].flatMap((byte) => reader.push(Buffer.from([byte])))
    expect(frames).toEqual([message])
  })

  it('splits several messages that arrive in one chunk, keeping a trailing partial one', () => {
    const [a, b, c] = [1, 2, 3].map((id) => opMsg(id, { ping: 1, $db: 'admin' })) as [
      Buffer,
      Buffer,
      Buffer,
    ]
    const reader = new FrameReader()
    expect(reader.push(Buffer.concat([a, b, c.subarray(0, 10)]))).toEqual([a, b])
    expect(reader.push(c.subarray(10))).toEqual([c])
  })

  it('rejects lengths below a header or above maxMessageSizeBytes', () => {
    const tooShort = Buffer.alloc(16)
    tooShort.writeInt32LE(8)
    expect(() => new FrameReader().push(tooShort)).toThrow(ProtocolError)
    const tooLong = Buffer.alloc(4)
    tooLong.writeInt32LE(0x7fffffff)
    expect(() => new FrameReader().push(tooLong)).toThrow(ProtocolError)
  })
})

describe('parseMessage', () => {
  it('merges OP_MSG document sequences into the command body', () => {
    const request = parseMessage(
      opMsg(7, { insert: 'users', $db: 'app' }, { sequences: { documents: [{ a: 1 }, { a: 2 }] } }),
    )
    expect(request).toMatchObject({ requestId: 7, moreToCome: false })
    expect(request.command).toEqual({
      insert: 'users',
      $db: 'app',
      documents: [{ a: 1 }, { a: 2 }],
    })
  })

  it('reads the moreToCome flag', () => {
    const request = parseMessage(opMsg(1, { endSessions: [], $db: 'admin' }, { flags: 2 }))
    expect(request.moreToCome).toBe(true)
  })

  it('decodes the legacy OP_QUERY handshake, unwrapping $query', () => {
    const request = parseMessage(opQuery(3, 'admin.$cmd', { $query: { isMaster: 1 } }))
    expect(request).toMatchObject({ namespace: 'admin.$cmd', command: { isMaster: 1 } })
  })

  it.each([
    ['an unknown opcode', rawMessage(1, 2012, Buffer.alloc(8))],
    ['an unknown required flag bit', opMsg(1, { ping: 1 }, { flags: 1 << 4 })],
    ['a truncated body', opMsg(1, { ping: 1, $db: 'admin' }).subarray(0, 30)],
    ['no body section', rawMessage(1, 2013, Buffer.alloc(4))],
    ['an unknown section kind', rawMessage(1, 2013, Buffer.from([0, 0, 0, 0, 9]))],
  ])('rejects %s', (_name, frame) => {
    const fixed = Buffer.from(frame)
    fixed.writeInt32LE(fixed.length) // keep the header honest so the body is what is wrong
    expect(() => parseMessage(fixed)).toThrow(ProtocolError)
  })

  it('rejects invalid BSON', () => {
    const body = Buffer.from(serialize({ ping: 1, $db: 'admin' }))
    body.writeUInt8(0x7f, 4) // no BSON type has this code
    expect(() => parseMessage(rawMessage(1, 2013, Buffer.concat([Buffer.alloc(5), body])))).toThrow(
      ProtocolError,
    )
  })
})
