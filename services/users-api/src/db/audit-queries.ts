import { Types } from 'mongoose'
import type { AuditEventRecord } from './audit-event-model.js'
import { driverCollection, type Database } from './database.js'

export type NewAuditEvent = Omit<AuditEventRecord, '_id'>

/** Which events a page holds: one user's, one kind, or both. */
export interface AuditFilter {
  userId?: Types.ObjectId
  event?: string
}

/** Every query on the audit trail, named for what it does. */
export function auditQueries({ auditEvents }: Database) {
  return {
    async insert(event: NewAuditEvent): Promise<Types.ObjectId> {
      const _id = new Types.ObjectId()
      // Every login records one: straight to the driver (see driverCollection).
      await driverCollection(auditEvents).insertOne({ _id, ...event })
      return _id
    },

    /**
     * One page by descending `_id`, strictly before `cursor`; one more than asked, to tell if
     * more follow. `_id` is unique and never changes, so a walk by it repeats no event and
     * skips none, however many are written meanwhile (those land above the first page or,
     * when another replica made the id, possibly on a later page: seen once either way).
     */
    page(filter: AuditFilter, cursor: string | undefined, limit: number) {
      return auditEvents
        .find({
          ...(filter.userId ? { userId: filter.userId } : {}),
          ...(filter.event ? { event: filter.event } : {}),
          ...(cursor ? { _id: { $lt: new Types.ObjectId(cursor) } } : {}),
        })
        .sort({ _id: -1 })
        .limit(limit + 1)
        .lean<AuditEventRecord[]>()
        .exec()
    },
  }
}
