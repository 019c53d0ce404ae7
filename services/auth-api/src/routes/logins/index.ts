import type { TokenRequest, TokenResponse } from '@users-auth/auth-contract'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { PasswordHasher } from '../../crypto/password-hasher.js'
import { assertUsablePassword, hashingFailure, refuseWhenBusy } from '../password-input.js'
import { loginRoute } from './schemas.js'

export interface LoginRoutesOptions {
  hasher: PasswordHasher
  signToken: (claims: TokenRequest) => TokenResponse
}

const loginRoutes: FastifyPluginAsyncTypebox<LoginRoutesOptions> = async (
  app,
  { hasher, signToken },
) => {
  const busy = refuseWhenBusy(hasher)
  app.post('/', { schema: loginRoute, onRequest: busy }, async (request) => {
    const { password, hash, token } = request.body
    assertUsablePassword(password)
    const { valid, needsRehash } = await hasher.verify(password, hash).catch(hashingFailure)
    return valid ? { valid, needsRehash, ...signToken(token) } : { valid, needsRehash }
  })
}

export default loginRoutes
