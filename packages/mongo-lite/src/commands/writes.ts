import { ObjectId } from 'bson'
import { CommandError } from '../errors.js'
import { cloneDocument, withIdFirst, type Document } from '../documents.js'
import { duplicateKeyFields, type DuplicateKey } from '../indexes.js'
import { selectStored } from '../query.js'
import type { Collection, Storage } from '../storage.js'
import { applyUpdate, buildUpsert, parseUpdateSpec } from '../update.js'
import {
  collectionName,
  documentArray,
  optionalDocument,
  optionalDocumentArray,
} from './arguments.js'
import type { CommandHandler } from './context.js'

/** A failed statement of a batch write, reported in `writeErrors` while the command is ok:1. */
class WriteError extends Error {
  constructor(readonly fields: Document) {
    super(String(fields.errmsg))
  }
}

function duplicate(collection: Collection, found: DuplicateKey): WriteError {
  return new WriteError(duplicateKeyFields(collection.ns, found))
}

/**
 * Runs each statement of a batch write; ordered batches stop at the first failure. Returns
 * the reply's `writeErrors` (absent when every statement succeeded).
 */
function runStatements(
  statements: Document[],
  ordered: boolean,
  run: (statement: Document, index: number) => void,
): Document[] | undefined {
  const writeErrors: Document[] = []
  for (const [index, statement] of statements.entries()) {
    try {
      run(statement, index)
    } catch (error) {
      if (error instanceof WriteError) writeErrors.push({ index, ...error.fields })
      else if (error instanceof CommandError) {
        writeErrors.push({
          index,
          code: error.code,
          codeName: error.codeName,
          errmsg: error.message,
        })
      } else throw error
      if (ordered) break
    }
  }
  return writeErrors.length > 0 ? writeErrors : undefined
}

export function prepareInsert(raw: Document): Document {
  const document = cloneDocument(raw)
  if (Array.isArray(document._id)) {
    throw new CommandError('BadValue', "can't use an array for _id")
  }
  // Like mongod, generate missing ids and keep _id as the first field.
  if (document._id === undefined) return { _id: new ObjectId(), ...document }
  return withIdFirst(document)
}

const insert: CommandHandler = (context) => {
  const collection = context.storage.ensure(context.db, collectionName(context))
  const documents = documentArray(context.command, 'documents')
  let n = 0
  const writeErrors = runStatements(documents, context.command.ordered !== false, (raw) => {
    const found = collection.insert(prepareInsert(raw))
    if (found) throw duplicate(collection, found)
    n++
  })
  return { n, writeErrors }
}

interface UpdateStatement {
  q: Document
  u: unknown
  upsert?: boolean
  multi?: boolean
  arrayFilters?: Document[]
  collation?: Document
  sort?: Document
}

function parseStatement(raw: Document): UpdateStatement {
  return {
    q: optionalDocument(raw, 'q') ?? {},
    u: raw.u,
    upsert: raw.upsert === true,
    multi: raw.multi === true,
    arrayFilters: optionalDocumentArray(raw, 'arrayFilters'),
    collation: optionalDocument(raw, 'collation'),
    sort: optionalDocument(raw, 'sort'),
  }
}

/** One update statement: counts matched and modified documents, or upserts one. */
export function updateDocuments(
  storage: Storage,
  db: string,
  name: string,
  statement: UpdateStatement,
): { matched: number; modified: number; upserted?: unknown } {
  const update = parseUpdateSpec(statement.u)
  const options = { query: statement.q, arrayFilters: statement.arrayFilters }
  const collection = storage.collection(db, name)
  const targets = collection
    ? selectStored(collection.candidates(statement.q), statement.q, {
        sort: statement.sort,
        collation: statement.collation,
        limit: statement.multi ? undefined : 1,
      })
    : []
  if (collection && targets.length > 0) {
    let modified = 0
    for (const target of targets) {
      const result = applyUpdate(target, update, options)
      if (!result.modified) continue
      const found = collection.replace(target, result.document)
      if (found) throw duplicate(collection, found)
      modified++
    }
    return { matched: targets.length, modified }
  }
  if (!statement.upsert) return { matched: 0, modified: 0 }
  const upsertInto = storage.ensure(db, name)
  const document = buildUpsert(update, options)
  const found = upsertInto.insert(document)
  if (found) throw duplicate(upsertInto, found)
  return { matched: 0, modified: 0, upserted: document._id }
}

const update: CommandHandler = (context) => {
  const name = collectionName(context)
  const statements = documentArray(context.command, 'updates')
  let n = 0
  let nModified = 0
  const upserted: Document[] = []
  const writeErrors = runStatements(statements, context.command.ordered !== false, (raw, index) => {
    const result = updateDocuments(context.storage, context.db, name, parseStatement(raw))
    n += result.matched
    nModified += result.modified
    if (result.upserted !== undefined) {
      n++
      upserted.push({ index, _id: result.upserted })
    }
  })
  return { n, nModified, upserted: upserted.length > 0 ? upserted : undefined, writeErrors }
}

const remove: CommandHandler = (context) => {
  const collection = context.storage.collection(context.db, collectionName(context))
  const statements = documentArray(context.command, 'deletes')
  let n = 0
  const writeErrors = runStatements(statements, context.command.ordered !== false, (raw) => {
    if (!collection) return
    const limit = raw.limit === 1 ? 1 : undefined
    const filter = optionalDocument(raw, 'q') ?? {}
    const targets = selectStored(collection.candidates(filter), filter, {
      limit,
      collation: optionalDocument(raw, 'collation'),
    })
    for (const target of targets) collection.remove(target)
    n += targets.length
  })
  return { n, writeErrors }
}

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: remove,
}
