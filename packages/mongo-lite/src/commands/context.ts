import type { CursorRegistry } from '../cursors.js'
import type { Document } from '../documents.js'
import type { Storage } from '../storage.js'
import type { Transactions } from '../transactions.js'
import type { Sweeper } from '../ttl.js'

/** What every command can reach: the server's state plus the request it serves. */
export interface CommandContext {
  readonly storage: Storage
  readonly cursors: CursorRegistry
  readonly transactions: Transactions
  readonly sweeper: Sweeper
  readonly connectionId: number
  /** The command document; its first field names the command. */
  readonly command: Document
  readonly name: string
  /** `$db`, or the database of an OP_QUERY's `<db>.$cmd`. */
  readonly db: string
}

/** Returns the reply document (without `ok`, which the dispatcher adds when missing). */
export type CommandHandler = (context: CommandContext) => Document
