import { createServer, Socket, type Server } from 'node:net'

export type FaultMode = 'forward' | 'refuse' | 'stall' | 'garbage' | 'huge'

/**
 * A TCP stand-in between users-api and auth-api that can forward, refuse connections, accept
 * and never answer, answer garbage, or answer a 10 MB body: the failures a real network and a
 * broken peer produce, without touching either service's code.
 */
export class FaultProxy {
  mode: FaultMode = 'forward'
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()

  constructor(private target: { host: string; port: number }) {}

  retarget(url: string): void {
    const u = new URL(url)
    this.target = { host: u.hostname, port: Number(u.port) }
  }

  async start(): Promise<string> {
    this.server = createServer((client) => {
      this.track(client)
      client.on('error', () => undefined)
      switch (this.mode) {
        case 'refuse':
          client.resetAndDestroy()
          return
        case 'stall':
          return
        case 'garbage':
          client.once('data', () =>
            client.end(
              'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\nnot json!',
            ),
          )
          return
        case 'huge':
          client.once('data', () => {
            const body = 'x'.repeat(10 * 1024 * 1024)
            client.end(
              `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
            )
          })
          return
        case 'forward': {
          const upstream = new Socket()
          this.track(upstream)
          upstream.on('error', () => client.destroy())
          upstream.connect(this.target.port, this.target.host, () => {
            client.pipe(upstream).pipe(client)
          })
        }
      }
    })
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    if (!address || typeof address === 'string') throw new Error('no address')
    return `http://127.0.0.1:${address.port}`
  }

  /** Drops every open connection (keep-alive ones too), so the next request sees the new mode. */
  cut(): void {
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }

  async stop(): Promise<void> {
    this.cut()
    const server = this.server
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve()
      })
    })
  }

  private track(socket: Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
  }
}
