import cookie, { type CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { browserBindingLifetimeSeconds, type OAuthLogin } from '../../domain/oauth-login.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { contextOf } from '../request-context.js'
import { callbackRoute, exchangeRoute, listProvidersRoute, startRoute } from './schemas.js'

export interface OAuthRoutesOptions {
  oauthLogin: OAuthLogin
  /** The per-client-IP budget that signup, login and refresh share, counted before parsing. */
  ipLimit: IpLimit
  /** PUBLIC_URL: the browser-binding cookie is Secure when it is https, scoped to its path. */
  publicUrl: string
}

/**
 * The cookie that binds a sign-in to the browser that started it. It proves nothing but that:
 * it is read only by the callback, never as a credential. SameSite=Lax lets it ride along on
 * the provider's top-level redirect back; the path keeps it off every other route.
 */
export const browserBindingCookie = 'oauth_browser'

/** The query string as the provider sent it: openid-client reads every parameter itself. */
function rawQuery(url: string): string {
  const start = url.indexOf('?')
  return start === -1 ? '' : url.slice(start + 1)
}

const oauthRoutes: FastifyPluginAsyncTypebox<OAuthRoutesOptions> = async (
  app,
  { oauthLogin, ipLimit, publicUrl },
) => {
  // Registered here only: no other route reads cookies (the API authenticates by Bearer).
  await app.register(cookie)
  const publicBase = new URL(publicUrl)
  const cookieOptions: CookieSerializeOptions = {
    httpOnly: true,
    sameSite: 'lax',
    secure: publicBase.protocol === 'https:',
    // Where the browser sees these routes, behind a proxy that adds a path prefix too.
    path: `${publicBase.pathname.replace(/\/$/, '')}/v1/auth/oauth`,
  }

  app.get('/providers', { schema: listProvidersRoute }, () => ({ items: oauthLogin.list() }))

  app.get(
    '/:provider/start',
    { onRequest: ipLimit, schema: startRoute },
    async (request, reply) => {
      const { authorizationUrl, browserBinding } = await oauthLogin.start(
        request.params.provider,
        request.query.redirect_to,
      )
      return reply
        .setCookie(browserBindingCookie, browserBinding, {
          ...cookieOptions,
          maxAge: browserBindingLifetimeSeconds,
        })
        .redirect(authorizationUrl, 302)
    },
  )

  app.get(
    '/:provider/callback',
    { onRequest: ipLimit, schema: callbackRoute },
    async (request, reply) => {
      // One round trip per cookie: it is cleared whatever the outcome.
      reply.clearCookie(browserBindingCookie, cookieOptions)
      const location = await oauthLogin.callback(
        request.params.provider,
        request.query.state,
        request.cookies[browserBindingCookie],
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
