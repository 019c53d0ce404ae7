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
        operationId: 'getJwks',
        summary: 'Public keys that verify access tokens',
        description:
          'The JWK set (RFC 7517) of auth-api’s signing keys, cached; verify access tokens ' +
          'locally with it. Cacheable for 5 minutes.',
        tags: ['keys'],
        response: { 200: JwksSchema, ...problemResponses('SERVICE_UNAVAILABLE') },
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
