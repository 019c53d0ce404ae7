import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { OAuthLogin } from '../../domain/oauth-login.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { contextOf } from '../request-context.js'
import { callbackRoute, exchangeRoute, listProvidersRoute, startRoute } from './schemas.js'

export interface OAuthRoutesOptions {
  oauthLogin: OAuthLogin
  /** The per-client-IP budget that signup, login and refresh share, counted before parsing. */
  ipLimit: IpLimit
}

/** The query string as the provider sent it: openid-client reads every parameter itself. */
function rawQuery(url: string): string {
  const start = url.indexOf('?')
  return start === -1 ? '' : url.slice(start + 1)
}

const oauthRoutes: FastifyPluginAsyncTypebox<OAuthRoutesOptions> = async (
  app,
  { oauthLogin, ipLimit },
) => {
  app.get('/providers', { schema: listProvidersRoute }, () => ({ items: oauthLogin.list() }))

  app.get(
    '/:provider/start',
    { onRequest: ipLimit, schema: startRoute },
    async (request, reply) => {
      const url = await oauthLogin.start(
        request.params.provider,
        request.query.redirect_to,
        contextOf(request),
      )
      return reply.redirect(url, 302)
    },
  )

  app.get(
    '/:provider/callback',
    { onRequest: ipLimit, schema: callbackRoute },
    async (request, reply) => {
      const location = await oauthLogin.callback(
        request.params.provider,
        request.query.state,
        rawQuery(request.url),
        contextOf(request),
      )
      // The target carries a one-time code in its fragment: no cache, no referrer.
      return reply.header('referrer-policy', 'no-referrer').redirect(location, 302)
    },
  )

  app.post('/token', { onRequest: ipLimit, schema: exchangeRoute }, (request) =>
    oauthLogin.exchange(request.body.code, contextOf(request)),
  )
}

export default oauthRoutes
