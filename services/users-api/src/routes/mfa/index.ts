import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf, type Guards } from '../../auth/authenticate.js'
import type { SecondFactor } from '../../domain/second-factor.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { contextOf } from '../request-context.js'
import { confirmRoute, disableRoute, enrolRoute, regenerateRoute, verifyRoute } from './schemas.js'

export interface MfaRoutesOptions {
  secondFactor: SecondFactor
  guards: Guards
  /** The per-client-IP budget: every route that checks a password or a code spends from it. */
  ipLimit: IpLimit
}

/** The second factor: `/users/me/mfa/*` for its owner, `/auth/mfa/verify` for sign-in. */
const mfaRoutes: FastifyPluginAsyncTypebox<MfaRoutesOptions> = async (
  app,
  { secondFactor, guards, ipLimit },
) => {
  // Counted before the token is verified or the body parsed.
  const owner = { onRequest: [ipLimit, guards.authenticate] }

  app.post('/users/me/mfa/totp', { ...owner, schema: enrolRoute }, (request) =>
    secondFactor.enrol(principalOf(request), request.body.password, contextOf(request)),
  )

  app.post('/users/me/mfa/totp/confirm', { ...owner, schema: confirmRoute }, (request) =>
    secondFactor.confirm(principalOf(request), request.body.code, contextOf(request)),
  )

  app.delete('/users/me/mfa/totp', { ...owner, schema: disableRoute }, async (request, reply) => {
    await secondFactor.disable(principalOf(request), request.body.code, contextOf(request))
    return reply.code(204).send(null)
  })

  app.post('/users/me/mfa/recovery-codes', { ...owner, schema: regenerateRoute }, (request) =>
    secondFactor.regenerateRecoveryCodes(
      principalOf(request),
      request.body.code,
      contextOf(request),
    ),
  )

  app.post('/auth/mfa/verify', { onRequest: ipLimit, schema: verifyRoute }, (request) =>
    secondFactor.verify(request.body.mfaToken, request.body.code, contextOf(request)),
  )
}

export default mfaRoutes
