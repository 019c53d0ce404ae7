import { connect, type Socket } from 'node:net'
import { deserialize, serialize, type Document } from 'bson'
import { FrameReader } from '../src/wire-protocol.js'

// Builds client messages byte by byte, and a bare TCP client, so tests can send exactly
// what a driver would send (or something no driver would).

function header(length: number, requestId: number, opCode: number): Buffer {
  const buffer = Buffer.alloc(16)
  buffer.writeInt32LE(length, 0)
  buffer.writeInt32LE(requestId, 4)
  buffer.writeInt32LE(0, 8)
  buffer.writeInt32LE(opCode, 12)
  return buffer
}

export function opMsg(
  requestId: number,
  body: Document,
  options: { flags?: number; sequences?: Record<string, Document[]> } = {},
): Buffer {
  const flags = Buffer.alloc(4)
  flags.writeUInt32LE(options.flags ?? 0)
  const sections: Buffer[] = [Buffer.from([0]), Buffer.from(serialize(body))]
  for (const [name, documents] of Object.entries(options.sequences ?? {})) {
    const payload = Buffer.concat([
      Buffer.from(`${name}\0`),
      ...documents.map((document) => Buffer.from(serialize(document))),
    ])
    const size = Buffer.alloc(4)
    size.writeInt32LE(payload.length + 4)
    sections.push(Buffer.from([1]), size, payload)
  }
  const rest = Buffer.concat([flags, ...sections])
  return Buffer.concat([header(16 + rest.length, requestId, 2013), rest])
}

export function opQuery(requestId: number, namespace: string, query: Document): Buffer {
  const skipAndReturn = Buffer.alloc(8)
  skipAndReturn.writeInt32LE(-1, 4)
  const rest = Buffer.concat([
    Buffer.alloc(4),
    Buffer.from(`${namespace}\0`),
    skipAndReturn,
    Buffer.from(serialize(query)),
  ])
  return Buffer.concat([header(16 + rest.length, requestId, 2004), rest])
}

/** A message with any opcode and body bytes, for malformed-input tests. */
export function rawMessage(requestId: number, opCode: number, body: Buffer): Buffer {
  return Buffer.concat([header(16 + body.length, requestId, opCode), body])
}

export interface Reply {
  opCode: number
  responseTo: number
  document: Document
}

export function decodeReply(frame: Buffer): Reply {
  const opCode = frame.readInt32LE(12)
  // OP_REPLY carries 20 bytes of fields before its document; OP_MSG 4 flag bytes and a kind byte.
  const offset = opCode === 1 ? 36 : 21
  // int64 values stay Long, so tests can tell them from int32.
  const document = deserialize(frame.subarray(offset), { promoteLongs: false })
  return { opCode, responseTo: frame.readInt32LE(8), document }
}

/** A bare connection that collects replies and notices when the server hangs up. */
export class RawClient {
  readonly replies: Reply[] = []
  readonly closed: Promise<void>
  private readonly reader = new FrameReader()
  private waiters: (() => void)[] = []

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.reader.push(chunk)) this.replies.push(decodeReply(frame))
      for (const waiter of this.waiters) waiter()
    })
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        resolve()
      }),
    )
    socket.on('error', () => undefined)
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket)
  }

  async send(...chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      await new Promise<void>((resolve, reject) => {
        this.socket.write(chunk, (error) => {
          if (error) reject(error)
          else resolve()
        })
      })
    }
  }

  /** Resolves once `count` replies have arrived (fails the test after 5 s). */
  async waitForReplies(count: number): Promise<Reply[]> {
    const deadline = Date.now() + 5000
    while (this.replies.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} replies, got ${this.replies.length}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 50)
      })
      this.waiters = []
    }
    return this.replies
  }

  close(): void {
    this.socket.destroy()
  }
}
