import { Types } from 'mongoose'
import type { AuditEventRecord } from '../db/audit-event-model.js'
import { auditQueries, type AuditFilter } from '../db/audit-queries.js'
import type { Database } from '../db/database.js'
import type { AuditEventName } from './audit.js'

/** What leaves the service about one event. */
export interface AuditEventView {
  id: string
  at: string
  event: string
  outcome: 'success' | 'failure'
  userId: string | null
  actorId: string | null
  ip: string
  userAgent: string
  requestId: string
}

export interface AuditPage {
  items: AuditEventView[]
  nextCursor: string | null
}

function toAuditEventView(record: AuditEventRecord): AuditEventView {
  return {
    id: record._id.toString(),
    at: record.at.toISOString(),
    event: record.event,
    outcome: record.outcome,
    userId: record.userId?.toString() ?? null,
    actorId: record.actorId?.toString() ?? null,
    ip: record.ip,
    userAgent: record.userAgent,
    requestId: record.requestId,
  }
}

/**
 * Reading the audit trail, newest first: by descending event id. Ids made by one replica grow
 * with time; ids two replicas make in the same second are ordered by replica, not by time. So
 * "newest first" holds to the second, and a walk with the cursor (the last id of the previous
 * page) sees each event once.
 */
export function createAuditTrail(db: Database) {
  const store = auditQueries(db)

  async function page(filter: AuditFilter, limit: number, cursor?: string): Promise<AuditPage> {
    const found = await store.page(filter, cursor, limit)
    const items = found.slice(0, limit)
    const last = items.at(-1)
    return {
      items: items.map(toAuditEventView),
      nextCursor: found.length > limit && last ? last._id.toString() : null,
    }
  }

  return {
    /** The events about one account (its own activity and what admins did to it). */
    activity(userId: Types.ObjectId, limit: number, cursor?: string): Promise<AuditPage> {
      return page({ userId }, limit, cursor)
    },

    search(
      filter: { userId?: string; event?: AuditEventName },
      limit: number,
      cursor?: string,
    ): Promise<AuditPage> {
      return page(
        {
          ...(filter.userId ? { userId: new Types.ObjectId(filter.userId) } : {}),
          ...(filter.event ? { event: filter.event } : {}),
        },
        limit,
        cursor,
      )
    },
  }
}

export type AuditTrail = ReturnType<typeof createAuditTrail>
