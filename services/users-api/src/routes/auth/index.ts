import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Guards } from '../../auth/authenticate.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { principalOf } from '../../auth/authenticate.js'
import type { Accounts } from '../../domain/accounts.js'
import type { Sessions } from '../../domain/sessions.js'
import { contextOf } from '../request-context.js'
import { loginRoute, logoutRoute, refreshRoute, signupRoute } from './schemas.js'

export interface AuthRoutesOptions {
  accounts: Accounts
  sessions: Sessions
  guards: Guards
  /** The per-client-IP budget that signup, login and refresh share, counted before parsing. */
  ipLimit: IpLimit
  /** Refuses (503) at once while auth-api is at capacity: before any parsing or lookup. */
  hashCapacity: IpLimit
}

const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (
  app,
  { accounts, sessions, guards, ipLimit, hashCapacity },
) => {
  const passwordWork = [hashCapacity, ipLimit]
  app.post('/signup', { onRequest: passwordWork, schema: signupRoute }, async (request, reply) => {
    const session = await accounts.signup(request.body, contextOf(request))
    return reply.code(201).header('location', `/v1/users/${session.user.id}`).send(session)
  })

  app.post('/login', { onRequest: passwordWork, schema: loginRoute }, (request) =>
    accounts.login(request.body, contextOf(request)),
  )

  app.post('/refresh', { onRequest: ipLimit, schema: refreshRoute }, (request) =>
    sessions.refresh(request.body.refreshToken, contextOf(request)),
  )

  app.post(
    '/logout',
    { schema: logoutRoute, onRequest: guards.authenticate },
    async (request, reply) => {
      await sessions.logout(principalOf(request), contextOf(request))
      return reply.code(204).send(null)
    },
  )
}

export default authRoutes
