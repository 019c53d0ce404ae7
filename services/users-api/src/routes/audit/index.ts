import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf, type Guards } from '../../auth/authenticate.js'
import type { AuditTrail } from '../../domain/audit-trail.js'
import { myActivityRoute, searchAuditRoute } from './schemas.js'

export interface AuditRoutesOptions {
  auditTrail: AuditTrail
  guards: Guards
}

/** Reading the audit trail: one's own activity, and everyone's for admins. */
const auditRoutes: FastifyPluginAsyncTypebox<AuditRoutesOptions> = async (
  app,
  { auditTrail, guards },
) => {
  app.get(
    '/users/me/activity',
    { onRequest: guards.authenticate, schema: myActivityRoute },
    (request) =>
      auditTrail.activity(
        principalOf(request).user._id,
        request.query.limit ?? 20,
        request.query.cursor,
      ),
  )

  app.get('/audit', { onRequest: guards.requireAdmin, schema: searchAuditRoute }, (request) => {
    const { userId, event, limit, cursor } = request.query
    return auditTrail.search(
      { ...(userId ? { userId } : {}), ...(event ? { event } : {}) },
      limit ?? 20,
      cursor,
    )
  })
}

export default auditRoutes
