import { Writable } from 'node:stream'

/** A pino destination that keeps every line, so tests can assert on what was (not) logged. */
export function captureLogs(): { stream: Writable; lines: () => string[]; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'))
      cb()
    },
  })
  const text = () => chunks.join('')
  return { stream, text, lines: () => text().split('\n').filter(Boolean) }
}
