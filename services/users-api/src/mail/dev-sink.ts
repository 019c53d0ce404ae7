import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface DevMailSink {
  /** `smtp://127.0.0.1:<port>`: where the sender delivers. */
  url: string
  close(): Promise<void>
}

/**
 * A real SMTP server inside the process, for local runs without SMTP_URL: it accepts every
 * mail and prints one line for each, with its recipient, subject and links. This is the one
 * place a token is printed: it exists so that a developer can open the link; it is never
 * started in production.
 */
export async function startDevMailSink(print: (line: string) => void): Promise<DevMailSink> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // A client still connected when the sink closes is dropped after a second, not 30 s:
    // nothing a development sink holds is worth holding a shutdown for.
    closeTimeout: 1000,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const to = session.envelope.rcptTo.map((r) => r.address).join(', ')
          const links = (mail.text ?? '').match(/https?:\/\/\S+/g) ?? []
          print(`mail to ${to}: "${mail.subject ?? ''}"${links.map((l) => ` ${l}`).join('')}`)
          callback()
        })
        .catch((error: unknown) => {
          callback(error instanceof Error ? error : new Error('unreadable mail'))
        })
    },
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.server.address()
  if (address === null || typeof address === 'string') throw new Error('dev mail sink: no port')
  return {
    url: `smtp://127.0.0.1:${String(address.port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      }),
  }
}
