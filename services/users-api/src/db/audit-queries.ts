import { Types } from 'mongoose'
import type { AuditEventRecord } from './audit-event-model.js'
import type { Database } from './database.js'

export type NewAuditEvent = Omit<AuditEventRecord, '_id'>

/** Every query on the audit trail, named for what it does. */
export function auditQueries({ auditEvents }: Database) {
  return {
    async insert(event: NewAuditEvent): Promise<Types.ObjectId> {
      const _id = new Types.ObjectId()
      await auditEvents.create({ _id, ...event })
      return _id
    },
  }
}
