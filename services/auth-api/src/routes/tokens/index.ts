import type { TokenRequest, TokenResponse } from '@users-auth/auth-contract'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { mintRoute } from './schemas.js'

export interface TokenRoutesOptions {
  signToken: (claims: TokenRequest) => TokenResponse
}

const tokenRoutes: FastifyPluginAsyncTypebox<TokenRoutesOptions> = async (app, { signToken }) => {
  app.post('/', { schema: mintRoute }, (request) => signToken(request.body))
}

export default tokenRoutes
