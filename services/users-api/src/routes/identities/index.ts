import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf, type Guards } from '../../auth/authenticate.js'
import type { Identities } from '../../domain/identities.js'
import type { OAuthLogin } from '../../domain/oauth-login.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { versionOf } from '../../domain/sessions.js'
import { contextOf } from '../request-context.js'
import { linkIdentityRoute, listIdentitiesRoute, unlinkIdentityRoute } from './schemas.js'

export interface IdentityRoutesOptions {
  identities: Identities
  oauthLogin: OAuthLogin
  guards: Guards
  ipLimit: IpLimit
}

const identityRoutes: FastifyPluginAsyncTypebox<IdentityRoutesOptions> = async (
  app,
  { identities, oauthLogin, guards, ipLimit },
) => {
  const self = { onRequest: guards.authenticate }

  app.get('/', { ...self, schema: listIdentitiesRoute }, async (request) => ({
    items: await identities.list(principalOf(request).user._id),
  }))

  app.post(
    '/:provider',
    { onRequest: [ipLimit, guards.authenticate], schema: linkIdentityRoute },
    async (request) => ({
      authorizationUrl: await oauthLogin.startLink(
        request.params.provider,
        request.query.redirect_to,
        {
          userId: principalOf(request).user._id,
          credentialVersion: versionOf(principalOf(request).user),
        },
      ),
    }),
  )

  app.delete('/:provider', { ...self, schema: unlinkIdentityRoute }, async (request, reply) => {
    await identities.unlink(principalOf(request), request.params.provider, contextOf(request))
    return reply.code(204).send(null)
  })
}

export default identityRoutes
