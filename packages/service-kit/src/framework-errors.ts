import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { buildProblem, problemContentType, sendProblem } from './error-handler.js'
import { problemCodes } from './problem-codes.js'
import { requestIdHeader } from './request-id.js'

// Answers Fastify gives before any route or hook runs (a malformed URL, an over-long path
// parameter) carry none of the usual headers; these are the ones that matter.
const baselineHeaders = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
}

/** Fastify's `frameworkErrors`: the same problem+json as everywhere else. */
export function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  reply.headers({ ...baselineHeaders, [requestIdHeader]: request.id })
  void sendProblem(reply, buildProblem(request, error))
}

/**
 * Node's `clientError`: a request the HTTP parser refused (an unknown method, broken framing,
 * oversized headers). The socket gets a problem+json 400 and is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const { status, title } = problemCodes.VALIDATION_FAILED
  const body = JSON.stringify({
    type: 'urn:users-auth:problem:validation-failed',
    title,
    status,
    detail: 'The request could not be parsed as HTTP.',
    code: 'VALIDATION_FAILED',
    traceId: randomUUID(),
  })
  const headers = Object.entries({
    ...baselineHeaders,
    'content-type': problemContentType,
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  socket.end(`HTTP/1.1 400 Bad Request\r\n${headers}\r\n${body}`)
}
