import { Schema, type Connection, type Model } from 'mongoose'

/**
 * One of the few mail slots an address has per window: `_id` is `<address hash>:<slot>`.
 * A mail takes a free slot (absent or expired) and holds it for the window.
 */
export interface MailBudgetSlotRecord {
  _id: string
  expiresAt: Date
}

const mailBudgetSlotSchema = new Schema<MailBudgetSlotRecord>(
  {
    _id: { type: String, required: true },
    expiresAt: { type: Date, required: true, expires: 0 },
  },
  { strict: 'throw', versionKey: false },
)

export type MailBudgetSlotModel = Model<MailBudgetSlotRecord>

export function mailBudgetSlotModel(connection: Connection): MailBudgetSlotModel {
  return connection.model<MailBudgetSlotRecord>(
    'MailBudgetSlot',
    mailBudgetSlotSchema,
    'mail_budget_slots',
  )
}
