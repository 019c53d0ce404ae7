import { IncomingMessage, type ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The headers helmet would set, computed once. @fastify/helmet rebuilds helmet (and re-parses
 * its CSP) on every request, which cost a fifth of a trivial route's time; the header values
 * never change, so they are worked out at start-up and copied onto each reply.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      // Helmet removes X-Powered-By; Fastify never sets it.
      Reflect.deleteProperty(headers, name.toLowerCase())
    },
  }
  helmet(options)(
    new IncomingMessage(new Socket()),
    response as unknown as ServerResponse,
    () => undefined,
  )
  return headers
}
