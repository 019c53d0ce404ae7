import type { FastifyRequest } from 'fastify'
import type { RequestContext } from '../domain/deps.js'

export function contextOf(request: FastifyRequest): RequestContext {
  return { requestId: request.id, userAgent: request.headers['user-agent'] ?? '', ip: request.ip }
}
