import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { JwksSchema } from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'
import type { JwksCache } from '../../auth/jwks-cache.js'
import { ServiceUnavailable } from '../../errors.js'

export interface WellKnownOptions {
  jwks: JwksCache
}

const wellKnownRoutes: FastifyPluginAsyncTypebox<WellKnownOptions> = async (app, { jwks }) => {
  app.get(
    '/jwks.json',
    {
      schema: {
        summary: 'Public keys that verify access tokens',
        tags: ['keys'],
        response: { 200: JwksSchema, ...problemResponses(503) },
      },
    },
    async (_request, reply) => {
      const current = jwks.current ?? (await jwks.refresh().then(() => jwks.current))
      if (!current) throw new ServiceUnavailable()
      return reply.header('cache-control', 'public, max-age=300').send(current)
    },
  )
}

export default wellKnownRoutes
