import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { checkRoute } from './schemas.js'

// Reached only past the credential guard: a caller learns its credential is accepted without
// spending any hashing or signing work (users-api's readiness asks this).
const credentialRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema: checkRoute }, () => ({ accepted: true as const }))
}

export default credentialRoutes
