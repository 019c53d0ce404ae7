import { calculateObjectSize, Long } from 'bson'
import { CommandError } from './errors.js'
import type { Document } from './documents.js'

// mongod's defaults: a first batch of 101 documents, and no batch over 16 MiB. A little
// is kept back from 16 MiB for the reply around the batch.
const DEFAULT_FIRST_BATCH = 101
const BATCH_BYTES = 16 * 1024 * 1024 - 16 * 1024
/** Like mongod's cursorTimeoutMillis: an unused cursor is closed after ten minutes. */
const IDLE_CURSOR_MS = 10 * 60 * 1000

interface OpenCursor {
  readonly ns: string
  readonly documents: Document[]
  position: number
  lastUsed: number
}

export interface BatchOptions {
  batchSize?: number | undefined
  singleBatch?: boolean | undefined
}

/**
 * Result sets being read in batches. A result is computed whole when the cursor opens, and
 * stored documents are replaced rather than changed by writes, so later writes do not show
 * through, as with a snapshot read.
 */
export class CursorRegistry {
  private readonly open = new Map<string, OpenCursor>()
  // Ids start at a random point so a restarted server does not reuse a client's old ids.
  private nextId = Math.floor(Math.random() * 2 ** 31) + 1

  /** The `cursor` reply of find, aggregate and friends. */
  first(ns: string, documents: Document[], options: BatchOptions = {}): Document {
    const batch = takeBatch(documents, 0, options.batchSize ?? DEFAULT_FIRST_BATCH)
    let id = Long.ZERO
    if (batch.length < documents.length && options.singleBatch !== true) {
      id = Long.fromNumber(this.nextId++)
      this.open.set(id.toString(), { ns, documents, position: batch.length, lastUsed: Date.now() })
    }
    return { cursor: { firstBatch: batch, id, ns }, ok: 1 }
  }

  more(id: Long, batchSize: number | undefined): Document {
    const key = id.toString()
    const cursor = this.open.get(key)
    if (!cursor) throw new CommandError('CursorNotFound', `cursor id ${key} not found`)
    // getMore's batchSize 0 (or none) means "as much as fits".
    const limit = batchSize !== undefined && batchSize > 0 ? batchSize : Infinity
    const batch = takeBatch(cursor.documents, cursor.position, limit)
    cursor.position += batch.length
    cursor.lastUsed = Date.now()
    const exhausted = cursor.position >= cursor.documents.length
    if (exhausted) this.open.delete(key)
    return { cursor: { nextBatch: batch, id: exhausted ? Long.ZERO : id, ns: cursor.ns }, ok: 1 }
  }

  /** Closes the given cursors; returns which were open and which were not. */
  kill(ids: Long[]): { killed: Long[]; notFound: Long[] } {
    const killed: Long[] = []
    const notFound: Long[] = []
    for (const id of ids) (this.open.delete(id.toString()) ? killed : notFound).push(id)
    return { killed, notFound }
  }

  closeIdle(now: number): void {
    for (const [key, cursor] of this.open) {
      if (now - cursor.lastUsed > IDLE_CURSOR_MS) this.open.delete(key)
    }
  }

  get size(): number {
    return this.open.size
  }
}

function takeBatch(documents: Document[], from: number, maxCount: number): Document[] {
  const batch: Document[] = []
  let bytes = 0
  for (let i = from; i < documents.length && batch.length < maxCount; i++) {
    const document = documents[i] as Document
    // One document always fits, however big, or the cursor could never advance; so sizes
    // (as costly to compute as the serialisation itself) matter from the second one on.
    if (batch.length > 0) {
      if (batch.length === 1) bytes = calculateObjectSize(batch[0] as Document)
      bytes += calculateObjectSize(document)
      if (bytes > BATCH_BYTES) break
    }
    batch.push(document)
  }
  return batch
}
