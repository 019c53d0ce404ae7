import { deserialize, serialize } from 'bson'
import { isPlainObject, type Document } from './documents.js'

// The parts of MongoDB's wire protocol that current drivers use: the legacy OP_QUERY
// handshake (answered with OP_REPLY) and OP_MSG for everything else.
export const OpCode = { Reply: 1, Query: 2004, Msg: 2013 } as const

/** Advertised as maxMessageSizeBytes; anything longer is treated as garbage. */
export const MAX_MESSAGE_BYTES = 48_000_000
const HEADER_BYTES = 16

const MsgFlag = { ChecksumPresent: 1 << 0, MoreToCome: 1 << 1, ExhaustAllowed: 1 << 16 } as const
// Bits 0-15 are "required": a receiver must reject any it does not know.
const REQUIRED_FLAG_BITS = 0xffff
const KNOWN_FLAGS = MsgFlag.ChecksumPresent | MsgFlag.MoreToCome | MsgFlag.ExhaustAllowed

/** The peer broke the protocol; the only safe answer is to close its connection. */
export class ProtocolError extends Error {}

export interface WireRequest {
  readonly opCode: typeof OpCode.Query | typeof OpCode.Msg
  readonly requestId: number
  /** The command document, with OP_MSG document sequences merged in as arrays. */
  readonly command: Document
  /** OP_QUERY only: the `<db>.$cmd` namespace the command was sent to. */
  readonly namespace?: string
  /** OP_MSG moreToCome: the client expects no reply. */
  readonly moreToCome: boolean
}

/**
 * Cuts a TCP byte stream into whole messages. Chunks are kept as received and joined once
 * per message, so a large message arriving in many small chunks is not copied repeatedly.
 */
export class FrameReader {
  private chunks: Buffer[] = []
  private buffered = 0

  /** Returns every message completed by `chunk`; throws ProtocolError on an impossible length. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const frames: Buffer[] = []
    while (this.buffered >= 4) {
      const length = this.peekLength()
      if (length < HEADER_BYTES || length > MAX_MESSAGE_BYTES) {
        throw new ProtocolError(`invalid message length ${length}`)
      }
      if (this.buffered < length) break
      frames.push(this.take(length))
    }
    return frames
  }

  private peekLength(): number {
    const first = this.chunks[0]
    if (first && first.length >= 4) return first.readInt32LE(0)
    this.chunks = [Buffer.concat(this.chunks)]
    return (this.chunks[0] as Buffer).readInt32LE(0)
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks)
    const frame = all.subarray(0, length)
    const rest = all.subarray(length)
    this.chunks = rest.length > 0 ? [rest] : []
    this.buffered = rest.length
    return frame
  }
}

/** Decodes one whole message (as cut by FrameReader). */
export function parseMessage(frame: Buffer): WireRequest {
  if (frame.length < HEADER_BYTES || frame.readInt32LE(0) !== frame.length) {
    throw new ProtocolError('message length does not match its header')
  }
  const requestId = frame.readInt32LE(4)
  const opCode = frame.readInt32LE(12)
  if (opCode === OpCode.Msg) return parseMsg(frame, requestId)
  if (opCode === OpCode.Query) return parseQuery(frame, requestId)
  throw new ProtocolError(`unsupported opCode ${opCode}`)
}

function parseMsg(frame: Buffer, requestId: number): WireRequest {
  if (frame.length < HEADER_BYTES + 5) throw new ProtocolError('OP_MSG too short')
  const flags = frame.readUInt32LE(HEADER_BYTES)
  if ((flags & REQUIRED_FLAG_BITS & ~KNOWN_FLAGS) !== 0) {
    throw new ProtocolError(`unknown required OP_MSG flags ${flags}`)
  }
  // The checksum is optional for receivers to verify; we only skip over it.
  const end = flags & MsgFlag.ChecksumPresent ? frame.length - 4 : frame.length
  let offset = HEADER_BYTES + 4
  let body: Document | undefined
  const sequences: [string, Document[]][] = []
  while (offset < end) {
    const kind = frame.readUInt8(offset)
    offset += 1
    if (kind === 0) {
      if (body) throw new ProtocolError('OP_MSG has more than one body section')
      const size = documentSize(frame, offset, end)
      body = readDocument(frame, offset, size)
      offset += size
    } else if (kind === 1) {
      if (offset + 4 > end) throw new ProtocolError('truncated document sequence')
      const sectionEnd = offset + frame.readInt32LE(offset)
      if (sectionEnd <= offset + 4 || sectionEnd > end) {
        throw new ProtocolError('invalid document sequence size')
      }
      const nameEnd = frame.indexOf(0, offset + 4)
      if (nameEnd < 0 || nameEnd >= sectionEnd) throw new ProtocolError('invalid sequence name')
      const name = frame.toString('utf8', offset + 4, nameEnd)
      const documents: Document[] = []
      let cursor = nameEnd + 1
      while (cursor < sectionEnd) {
        const size = documentSize(frame, cursor, sectionEnd)
        documents.push(readDocument(frame, cursor, size))
        cursor += size
      }
      sequences.push([name, documents])
      offset = sectionEnd
    } else {
      throw new ProtocolError(`unknown OP_MSG section kind ${kind}`)
    }
  }
  if (!body) throw new ProtocolError('OP_MSG without a body section')
  for (const [name, documents] of sequences) {
    if (name in body) throw new ProtocolError(`duplicate field ${name} in OP_MSG`)
    body[name] = documents
  }
  return {
    opCode: OpCode.Msg,
    requestId,
    command: body,
    moreToCome: (flags & MsgFlag.MoreToCome) !== 0,
  }
}

function parseQuery(frame: Buffer, requestId: number): WireRequest {
  const nameStart = HEADER_BYTES + 4
  const nameEnd = frame.indexOf(0, nameStart)
  if (nameEnd < 0) throw new ProtocolError('OP_QUERY without a namespace')
  const namespace = frame.toString('utf8', nameStart, nameEnd)
  const queryStart = nameEnd + 1 + 8 // numberToSkip, numberToReturn
  const size = documentSize(frame, queryStart, frame.length)
  const query = readDocument(frame, queryStart, size)
  // Old drivers wrapped the command when they sent a read preference.
  const wrapped = query.$query
  const command = isPlainObject(wrapped) ? wrapped : query
  return { opCode: OpCode.Query, requestId, command, namespace, moreToCome: false }
}

function documentSize(frame: Buffer, offset: number, end: number): number {
  if (offset + 5 > end) throw new ProtocolError('truncated BSON document')
  const size = frame.readInt32LE(offset)
  if (size < 5 || offset + size > end) throw new ProtocolError('invalid BSON document size')
  return size
}

function readDocument(frame: Buffer, offset: number, size: number): Document {
  try {
    return deserialize(frame.subarray(offset, offset + size))
  } catch (error) {
    throw new ProtocolError(`invalid BSON: ${(error as Error).message}`)
  }
}

function writeHeader(message: Buffer, requestId: number, responseTo: number, opCode: number): void {
  message.writeInt32LE(message.length, 0)
  message.writeInt32LE(requestId, 4)
  message.writeInt32LE(responseTo, 8)
  message.writeInt32LE(opCode, 12)
}

/** Replies undefined fields are left out, as optional fields are in a real server's replies. */
function bson(document: Document): Uint8Array {
  return serialize(document, { ignoreUndefined: true })
}

// Each reply is built in one buffer of its final size: one allocation, one socket write.

export function encodeMsg(requestId: number, responseTo: number, document: Document): Buffer {
  const body = bson(document)
  const message = Buffer.allocUnsafe(HEADER_BYTES + 5 + body.length)
  writeHeader(message, requestId, responseTo, OpCode.Msg)
  message.writeUInt32LE(0, HEADER_BYTES) // flagBits
  message.writeUInt8(0, HEADER_BYTES + 4) // section kind 0: the body
  message.set(body, HEADER_BYTES + 5)
  return message
}

export function encodeReply(requestId: number, responseTo: number, document: Document): Buffer {
  const body = bson(document)
  // responseFlags, cursorID (int64 0), startingFrom, numberReturned
  const message = Buffer.alloc(HEADER_BYTES + 20 + body.length)
  writeHeader(message, requestId, responseTo, OpCode.Reply)
  message.writeInt32LE(1, HEADER_BYTES + 16)
  message.set(body, HEADER_BYTES + 20)
  return message
}
