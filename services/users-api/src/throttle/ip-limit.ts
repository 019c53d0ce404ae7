import rateLimit from '@fastify/rate-limit'
import { withRetryAfter } from '@users-auth/service-kit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { RateLimited } from '../errors.js'
import { clientKey } from './client-key.js'

/** An `onRequest` hook that spends one unit of the client's budget, or answers 429. */
export type IpLimit = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

export interface IpLimitOptions {
  /** Shared by every replica when given; in-process otherwise. */
  redis?: Redis
  redisPrefix: string
  max: number
  windowMs: number
}

/**
 * One per-client-IP budget (one store, one key per client) for every route that costs a
 * password check or a token rotation. It runs in `onRequest`, before the body is parsed or
 * validated, so a request that fails validation has still spent its unit.
 */
export async function registerIpLimit(
  app: FastifyInstance,
  options: IpLimitOptions,
): Promise<IpLimit> {
  const keyGenerator = (request: FastifyRequest) => clientKey(request.ip)
  await app.register(rateLimit, {
    global: false,
    ...(options.redis ? { redis: options.redis, nameSpace: `${options.redisPrefix}ip:` } : {}),
    skipOnError: false,
    keyGenerator,
    errorResponseBuilder: (_request, context) =>
      withRetryAfter(new RateLimited(), context.ttl / 1000),
  })
  const limit = app.rateLimit({ max: options.max, timeWindow: options.windowMs, keyGenerator })
  return async (request, reply) => {
    await limit.call(app, request, reply)
  }
}
