import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export const requestIdHeader = 'x-request-id'

// An incoming id is kept only if it is short and plain, so a client cannot inject text into
// log lines or headers through it.
const acceptable = /^[A-Za-z0-9._:-]{1,128}$/

export function requestIdFrom(req: IncomingMessage): string {
  const incoming = req.headers[requestIdHeader]
  if (typeof incoming === 'string' && acceptable.test(incoming)) return incoming
  return randomUUID()
}
