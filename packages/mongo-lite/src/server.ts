import { createServer, type Socket } from 'node:net'
import { CursorRegistry } from './cursors.js'
import { runCommand, type ServerState } from './dispatch.js'
import { Storage } from './storage.js'
import { Transactions } from './transactions.js'
import { DEFAULT_TTL_SWEEP_MS, expireDocuments, Sweeper } from './ttl.js'
import { encodeMsg, encodeReply, FrameReader, OpCode, parseMessage } from './wire-protocol.js'

export interface StartOptions {
  /** TCP port; 0 or undefined picks a free one. */
  port?: number
  /** Interface to listen on; default 127.0.0.1 (never exposed unless asked). */
  host?: string
  /** How often TTL indexes are swept, in ms; default 60 s like mongod. */
  ttlSweepMs?: number
}

export interface RunningServer {
  /** A connection string for drivers, e.g. `mongodb://127.0.0.1:27017`. */
  readonly uri: string
  readonly port: number
  /** Closes every connection and the listener; all data is gone afterwards. */
  stop(): Promise<void>
}

/** Starts an in-memory MongoDB-speaking server. Its data lives only as long as the server. */
export async function start(options: StartOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const storage = new Storage()
  const cursors = new CursorRegistry()
  const sweeper = new Sweeper(() => {
    expireDocuments(storage, Date.now())
    cursors.closeIdle(Date.now())
  }, options.ttlSweepMs ?? DEFAULT_TTL_SWEEP_MS)
  const state: ServerState = { storage, cursors, transactions: new Transactions(storage), sweeper }

  const sockets = new Set<Socket>()
  let nextConnectionId = 1
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    serveConnection(socket, state, nextConnectionId++)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  sweeper.start()
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0)
  const uriHost = host.includes(':') ? `[${host}]` : host

  return {
    uri: `mongodb://${uriHost}:${port}`,
    port,
    stop: async () => {
      sweeper.stop()
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

/**
 * Reads requests off one connection and answers them in order. Commands run synchronously,
 * so each one is atomic with respect to every other connection. A peer that breaks the
 * protocol is disconnected; nothing it sends can take the server down.
 */
function serveConnection(socket: Socket, state: ServerState, connectionId: number): void {
  const reader = new FrameReader()
  let nextRequestId = 1
  socket.setNoDelay(true)
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: Buffer) => {
    if (socket.destroyed) return
    try {
      for (const frame of reader.push(chunk)) {
        const request = parseMessage(frame)
        const reply = runCommand(state, request, connectionId)
        if (request.moreToCome) continue
        const encode = request.opCode === OpCode.Query ? encodeReply : encodeMsg
        socket.write(encode(nextRequestId++, request.requestId, reply))
      }
    } catch {
      // Garbage on the wire: the stream can no longer be trusted to be in sync.
      socket.destroy()
    }
  })
}
