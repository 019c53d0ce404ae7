import type { Jwks } from '@users-auth/auth-contract'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { jwksRoute } from './schemas.js'

export interface JwksRoutesOptions {
  jwks: Jwks
}

const jwksRoutes: FastifyPluginAsyncTypebox<JwksRoutesOptions> = async (app, { jwks }) => {
  app.get('/jwks.json', { schema: jwksRoute }, (_request, reply) => {
    // Short enough that a newly published key is seen well before it starts signing.
    reply.header('cache-control', 'public, max-age=300')
    return jwks
  })
}

export default jwksRoutes
