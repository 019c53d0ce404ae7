import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf, type Guards } from '../../auth/authenticate.js'
import type { Accounts } from '../../domain/accounts.js'
import type { Administration } from '../../domain/administration.js'
import type { Sessions } from '../../domain/sessions.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { contextOf } from '../request-context.js'
import {
  changePasswordRoute,
  deleteMeRoute,
  deleteUserRoute,
  endUserSessionsRoute,
  getMeRoute,
  getUserRoute,
  listSessionsRoute,
  listUserSessionsRoute,
  listUsersRoute,
  patchMeRoute,
  patchUserRoute,
  revokeOtherSessionsRoute,
  revokeSessionRoute,
} from './schemas.js'

export interface UserRoutesOptions {
  accounts: Accounts
  administration: Administration
  sessions: Sessions
  guards: Guards
  /** The per-client-IP budget: every route that checks a password spends from it. */
  ipLimit: IpLimit
}

const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (
  app,
  { accounts, administration, sessions, guards, ipLimit },
) => {
  const self = { onRequest: guards.authenticate }
  // Counted before the token is even verified, let alone the body parsed.
  const selfWithPassword = { onRequest: [ipLimit, guards.authenticate] }
  const admin = { onRequest: guards.requireAdmin }

  app.get('/me', { ...self, schema: getMeRoute }, (request) =>
    accounts.profile(principalOf(request)),
  )

  app.patch('/me', { ...self, schema: patchMeRoute }, (request) =>
    accounts.rename(principalOf(request), request.body.name),
  )

  app.post(
    '/me/password',
    { ...selfWithPassword, schema: changePasswordRoute },
    async (request, reply) => {
      await accounts.changePassword(principalOf(request), request.body, contextOf(request))
      return reply.code(204).send(null)
    },
  )

  app.delete('/me', { ...selfWithPassword, schema: deleteMeRoute }, async (request, reply) => {
    await accounts.deleteSelf(principalOf(request), request.body.password, contextOf(request))
    return reply.code(204).send(null)
  })

  app.get('/me/sessions', { ...self, schema: listSessionsRoute }, async (request) => {
    const principal = principalOf(request)
    return { items: await sessions.list(principal.user._id, principal.sessionId) }
  })

  app.delete(
    '/me/sessions/:id',
    { ...self, schema: revokeSessionRoute },
    async (request, reply) => {
      await sessions.revoke(principalOf(request).user._id, request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/me/sessions',
    { ...self, schema: revokeOtherSessionsRoute },
    async (request, reply) => {
      await sessions.revokeOthers(principalOf(request), contextOf(request))
      return reply.code(204).send(null)
    },
  )

  app.get('/', { ...admin, schema: listUsersRoute }, (request) =>
    accounts.list(request.query.limit ?? 20, request.query.cursor),
  )

  app.get('/:id', { ...admin, schema: getUserRoute }, (request) =>
    accounts.getById(request.params.id),
  )

  app.delete('/:id', { ...admin, schema: deleteUserRoute }, async (request, reply) => {
    await accounts.deleteById(principalOf(request), request.params.id, contextOf(request))
    return reply.code(204).send(null)
  })

  app.patch('/:id', { ...admin, schema: patchUserRoute }, (request) =>
    administration.update(
      principalOf(request),
      request.params.id,
      request.body,
      contextOf(request),
    ),
  )

  app.get('/:id/sessions', { ...admin, schema: listUserSessionsRoute }, async (request) => ({
    items: await administration.listSessions(request.params.id),
  }))

  app.delete(
    '/:id/sessions',
    { ...admin, schema: endUserSessionsRoute },
    async (request, reply) => {
      await administration.endSessions(principalOf(request), request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  )
}

export default userRoutes
