import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { PasswordHasher } from '../../crypto/password-hasher.js'
import { assertUsablePassword, hashingFailure, refuseWhenBusy } from '../password-input.js'
import { hashRoute, verifyRoute } from './schemas.js'

export interface PasswordRoutesOptions {
  hasher: PasswordHasher
}

const passwordRoutes: FastifyPluginAsyncTypebox<PasswordRoutesOptions> = async (
  app,
  { hasher },
) => {
  const busy = refuseWhenBusy(hasher)
  app.post('/hash', { schema: hashRoute, onRequest: busy }, async (request) => {
    assertUsablePassword(request.body.password)
    const hash = await hasher.hash(request.body.password).catch(hashingFailure)
    return { hash }
  })

  app.post('/verify', { schema: verifyRoute, onRequest: busy }, async (request) => {
    assertUsablePassword(request.body.password)
    return hasher.verify(request.body.password, request.body.hash).catch(hashingFailure)
  })
}

export default passwordRoutes
