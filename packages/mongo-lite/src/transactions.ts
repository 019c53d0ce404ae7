import { CommandError } from './errors.js'
import { valueKey, type Document } from './documents.js'
import type { CollectionSnapshot, Storage } from './storage.js'

interface OpenTransaction {
  readonly txnNumber: number
  /** The state of each collection before the transaction first touched it, by namespace. */
  readonly before: Map<string, CollectionSnapshot>
}

/**
 * Multi-document transactions, as far as a test server needs them: commit keeps the writes,
 * abort puts every collection the transaction touched back as it was. This is NOT isolated:
 * other sessions see uncommitted writes, and an abort also undoes other sessions' writes to
 * those collections made while the transaction was open.
 */
export class Transactions {
  private readonly open = new Map<string, OpenTransaction>()

  constructor(private readonly storage: Storage) {}

  /** Called before every command: opens transactions and snapshots what they are about to touch. */
  track(command: Document, commandName: string, db: string): void {
    const txnNumber = command.txnNumber
    // Checked before the session key, which every command carries and which costs a hex string.
    if (typeof txnNumber !== 'number' || command.autocommit !== false) return
    const session = sessionKey(command)
    if (session === undefined) return
    if (command.startTransaction === true) {
      this.abort(session)
      this.open.set(session, { txnNumber, before: new Map() })
    }
    const transaction = this.open.get(session)
    if (transaction?.txnNumber !== txnNumber) {
      throw new CommandError(
        'NoSuchTransaction',
        `Given transaction number ${txnNumber} does not match any in-progress transactions.`,
        { errorLabels: ['TransientTransactionError'] },
      )
    }
    const target = command[commandName]
    const ns = `${db}.${String(target)}`
    if (typeof target === 'string' && !transaction.before.has(ns)) {
      transaction.before.set(ns, this.storage.snapshot(db, target))
    }
  }

  /** Unknown transactions commit quietly: the driver may commit one that did no work. */
  commit(command: Document): void {
    const session = sessionKey(command)
    if (session !== undefined) this.open.delete(session)
  }

  abort(session: string | undefined): void {
    const transaction = session === undefined ? undefined : this.open.get(session)
    if (!transaction || session === undefined) return
    this.open.delete(session)
    for (const snapshot of transaction.before.values()) this.storage.restore(snapshot)
  }

  /** endSessions: like mongod, abort what the ended sessions left open. */
  endSessions(ids: unknown[]): void {
    for (const id of ids) this.abort(sessionKey({ lsid: id }))
  }
}

export function sessionKey(command: Document): string | undefined {
  const lsid: unknown = command.lsid
  if (lsid === null || typeof lsid !== 'object' || !('id' in lsid)) return undefined
  return valueKey(lsid.id)
}
