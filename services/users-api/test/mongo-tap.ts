import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import mongoose from 'mongoose'

const opMsg = 2013

/**
 * A TCP relay in front of MongoDB that notes each command passing through it, as
 * `<command> <collection>` ("update sessions"): what a request costs in round trips, seen on
 * the wire without touching the service. Bytes go through unchanged both ways.
 */
export class MongoTap {
  readonly commands: string[] = []
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()

  /** Starts relaying to the server of `uri`; answers the same URI pointed at the relay. */
  async start(uri: string): Promise<string> {
    const target = new URL(uri)
    this.server = createServer((client) => {
      const upstream = connect(Number(target.port || 27017), target.hostname)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
        socket.on('close', () => this.sockets.delete(socket))
      }
      let pending: Buffer = Buffer.alloc(0)
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk)
        pending = this.note(Buffer.concat([pending, chunk]))
      })
      upstream.pipe(client)
    })
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    const address = this.server.address()
    if (!address || typeof address === 'string') throw new Error('no address')
    const relayed = new URL(uri)
    relayed.hostname = '127.0.0.1'
    relayed.port = String(address.port)
    return relayed.toString()
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    const { server } = this
    if (server) await new Promise((resolve) => server.close(resolve))
  }

  // Each whole OP_MSG whose first section is a body: its first key names the command.
  private note(buffer: Buffer): Buffer {
    let rest = buffer
    while (rest.length >= 4 && rest.length >= rest.readInt32LE(0)) {
      const frame = rest.subarray(0, rest.readInt32LE(0))
      rest = rest.subarray(frame.length)
      if (frame.readInt32LE(12) !== opMsg || frame[20] !== 0) continue
      const body = mongoose.mongo.BSON.deserialize(frame.subarray(21, 21 + frame.readInt32LE(21)))
      const [name] = Object.keys(body)
      if (name === undefined) continue
      const target = body[name] as unknown
      this.commands.push(typeof target === 'string' ? `${name} ${target}` : name)
    }
    return Buffer.from(rest)
  }
}
