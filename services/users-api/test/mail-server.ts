import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  to: string[]
  from: string
  subject: string
  text: string
  html: string
  /** The message as it arrived on the wire. */
  raw: string
}

export type MailServerMode = 'accept' | 'stall'

/**
 * A real SMTP server on a local port that keeps what it receives: tests read links and tokens
 * from the delivered mail. It can stop (connections refused), come back on the same port, or
 * stall (accept connections and never greet; on a connection already open, never answer).
 */
export class TestMailServer {
  readonly received: ReceivedMail[] = []
  mode: MailServerMode = 'accept'
  private server: SMTPServer | undefined
  private waiters: (() => void)[] = []
  port = 0

  get url(): string {
    return `smtp://127.0.0.1:${String(this.port)}`
  }

  async start(port = this.port): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onConnect: (_session, callback) => {
        // A stalled server: the connection stays open and silent.
        if (this.mode === 'stall') return
        callback()
      },
      // A connection opened before the stall (a sender's pool keeps one) goes silent too.
      onMailFrom: (_address, _session, callback) => {
        if (this.mode === 'stall') return
        callback()
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8')
          simpleParser(raw)
            .then((mail: ParsedMail) => {
              this.received.push({
                to: session.envelope.rcptTo.map((r) => r.address),
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                subject: mail.subject ?? '',
                text: mail.text ?? '',
                html: typeof mail.html === 'string' ? mail.html : '',
                raw,
              })
              for (const wake of this.waiters.splice(0)) wake()
              callback()
            })
            .catch(callback)
        })
      },
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    this.port = address.port
    this.server = server
  }

  /** Stops listening: connections are refused until `start()` again. */
  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    // Stalled connections would hold close() open: end them.
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve()
      })
      for (const connection of server.connections) connection.close()
    })
  }

  /** Waits until a mail that matches arrives (default: to `to`), and returns it. */
  async waitFor(match: (mail: ReceivedMail) => boolean, timeoutMs = 10_000): Promise<ReceivedMail> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.received.find(match)
      if (found) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no such mail within ${String(timeoutMs)} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200))
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The latest mail to `to` whose subject matches, once it arrives. */
  mailTo(to: string, subject: RegExp, timeoutMs?: number): Promise<ReceivedMail> {
    return this.waitFor(
      (m) => m.to.includes(to) && subject.test(m.subject) && !this.consumed.has(m),
      timeoutMs,
    ).then((m) => {
      this.consumed.add(m)
      return m
    })
  }

  private consumed = new Set<ReceivedMail>()
}

/** The token in a mailed link's fragment (`…/<page>#token=…`). */
export function tokenFrom(mail: ReceivedMail, page: string): string {
  const match = new RegExp(`/${page}#token=([A-Za-z0-9_-]{43})`).exec(mail.text)
  if (!match?.[1]) throw new Error(`no ${page} link in the mail: ${mail.text}`)
  return match[1]
}
