import type { FastifyBaseLogger } from 'fastify'
import type { Types } from 'mongoose'
import type { AuditOutcome } from '../db/audit-event-model.js'
import { auditQueries } from '../db/audit-queries.js'
import type { Database } from '../db/database.js'
import type { RequestContext } from './deps.js'

/** The contract's event list: nothing else is ever recorded. */
export const auditEventNames = [
  'signup',
  'login',
  'login.locked',
  'mfa.challenge',
  'mfa.enable',
  'mfa.disable',
  'mfa.recovery_codes',
  'refresh.reuse',
  'logout',
  'session.revoke',
  'password.change',
  'password.forgot',
  'password.reset',
  'email.verify',
  'email.change',
  'identity.link',
  'identity.unlink',
  'account.delete',
  'admin.update',
  'admin.delete',
  'admin.sessions.revoke',
] as const
export type AuditEventName = (typeof auditEventNames)[number]

export interface AuditEntry {
  event: AuditEventName
  outcome: AuditOutcome
  /** The account the event is about; absent only for a failed login to an unknown address. */
  userId?: Types.ObjectId
  /** The admin for admin actions; defaults to the user. */
  actorId?: Types.ObjectId
}

export interface AuditOptions {
  db: Database
  logger: FastifyBaseLogger
  now: () => Date
  retentionMs: number
}

/**
 * The audit trail: each event is stored (kept `retentionMs`) and logged as one JSON line. A
 * store that fails makes `record` fail, so the request that made the change fails rather than
 * lose its record; callers decide where that must not happen (a failed login).
 */
export function createAudit({ db, logger, now, retentionMs }: AuditOptions) {
  const store = auditQueries(db)
  const audit = {
    async record(entry: AuditEntry, ctx: RequestContext): Promise<void> {
      const at = now()
      const actorId = entry.actorId ?? entry.userId
      const event = {
        at,
        event: entry.event,
        outcome: entry.outcome,
        ...(entry.userId ? { userId: entry.userId } : {}),
        ...(actorId ? { actorId } : {}),
        ip: ctx.ip,
        userAgent: ctx.userAgent.slice(0, 256),
        requestId: ctx.requestId,
        expiresAt: new Date(at.getTime() + retentionMs),
      }
      const id = await store.insert(event)
      logger.info(
        {
          audit: {
            id: id.toString(),
            event: event.event,
            outcome: event.outcome,
            userId: entry.userId?.toString(),
            actorId: actorId?.toString(),
            ip: event.ip,
            userAgent: event.userAgent,
          },
          reqId: ctx.requestId,
        },
        'audit event',
      )
    },

    /**
     * For a refusal that must stand whatever the store does (a failed or locked-out login): a
     * lost record is logged, and the caller's answer stays the same, so a guesser learns
     * nothing from a failing store and gets no further for it.
     */
    async recordRefusal(entry: AuditEntry, ctx: RequestContext): Promise<void> {
      try {
        await audit.record(entry, ctx)
      } catch (error) {
        logger.error(
          {
            err: error,
            audit: { event: entry.event, outcome: entry.outcome },
            reqId: ctx.requestId,
          },
          'audit event lost',
        )
      }
    },
  }
  return audit
}

export type Audit = ReturnType<typeof createAudit>
