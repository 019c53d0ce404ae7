import { adminCommands } from './commands/admin.js'
import { collectionCommands } from './commands/collections.js'
import type { CommandContext, CommandHandler } from './commands/context.js'
import { findAndModifyCommands } from './commands/find-and-modify.js'
import { indexCommands } from './commands/index-commands.js'
import { readCommands } from './commands/reads.js'
import { sessionCommands } from './commands/sessions.js'
import { writeCommands } from './commands/writes.js'
import { CommandError } from './errors.js'
import type { Document } from './documents.js'
import { OpCode, type WireRequest } from './wire-protocol.js'

const COMMANDS = new Map<string, CommandHandler>(
  Object.entries({
    ...adminCommands,
    ...sessionCommands,
    ...collectionCommands,
    ...indexCommands,
    ...writeCommands,
    ...findAndModifyCommands,
    ...readCommands,
  }),
)

/** mongod 5.1+ accepts only the handshake over legacy OP_QUERY. */
const OP_QUERY_COMMANDS = new Set(['hello', 'isMaster', 'ismaster'])
/** These end a transaction rather than run inside it. */
const TRANSACTION_CONTROL = new Set(['commitTransaction', 'abortTransaction'])

export type ServerState = Omit<CommandContext, 'command' | 'name' | 'db' | 'connectionId'>

/** Runs one command and returns its reply; failures become `ok: 0` replies, never exceptions. */
export function runCommand(
  state: ServerState,
  request: WireRequest,
  connectionId: number,
): Document {
  try {
    const { command } = request
    const name = firstKey(command)
    const handler = COMMANDS.get(name)
    if (!handler) throw new CommandError('CommandNotFound', `no such command: '${name}'`)
    if (request.opCode === OpCode.Query && !OP_QUERY_COMMANDS.has(name)) {
      throw new CommandError('UnsupportedOpQueryCommand', `Unsupported OP_QUERY command: ${name}`)
    }
    const db = databaseOf(request)
    if (!TRANSACTION_CONTROL.has(name)) state.transactions.track(command, name, db)
    const reply = handler({
      storage: state.storage,
      cursors: state.cursors,
      transactions: state.transactions,
      sweeper: state.sweeper,
      command,
      name,
      db,
      connectionId,
    })
    // Replies are built for this request alone, so `ok` is added in place.
    if (!('ok' in reply)) reply.ok = 1
    return reply
  } catch (error) {
    if (error instanceof CommandError) return error.toReply()
    const message = error instanceof Error ? error.message : String(error)
    return new CommandError('InternalError', message).toReply()
  }
}

/** The name of a document's first field, without listing all of them. */
function firstKey(document: Document): string {
  for (const key in document) return key
  return ''
}

function databaseOf(request: WireRequest): string {
  if (request.namespace !== undefined) return request.namespace.split('.')[0] ?? ''
  const db: unknown = request.command.$db
  if (typeof db !== 'string')
    throw new CommandError('FailedToParse', 'OP_MSG requests require a $db argument')
  return db
}
