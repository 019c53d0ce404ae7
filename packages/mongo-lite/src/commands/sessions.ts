import { sessionKey } from '../transactions.js'
import type { CommandHandler } from './context.js'

// Sessions live only in the client; the server keeps state only for open transactions.
export const sessionCommands: Record<string, CommandHandler> = {
  endSessions: ({ command, transactions }) => {
    const ids: unknown = command.endSessions
    transactions.endSessions(Array.isArray(ids) ? ids : [])
    return {}
  },
  refreshSessions: () => ({}),
  killSessions: () => ({}),
  killAllSessions: () => ({}),
  commitTransaction: ({ command, transactions }) => {
    transactions.commit(command)
    return {}
  },
  abortTransaction: ({ command, transactions }) => {
    transactions.abort(sessionKey(command))
    return {}
  },
}
