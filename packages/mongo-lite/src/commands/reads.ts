import { Long } from 'bson'
import { CommandError } from '../errors.js'
import { valueKey, valuesAtPath, type Document } from '../documents.js'
import { runPipeline, selectDocuments, selectStored } from '../query.js'
import {
  collectionName,
  documentArray,
  optionalBoolean,
  optionalDocument,
  optionalNumber,
} from './arguments.js'
import type { CommandContext, CommandHandler } from './context.js'

/** The stored documents `filter` can match (all of them without a filter). */
function storedDocuments(context: CommandContext, name: string, filter: Document = {}): Document[] {
  return context.storage.collection(context.db, name)?.candidates(filter) ?? []
}

const find: CommandHandler = (context) => {
  const { command } = context
  const name = collectionName(context)
  const limit = optionalNumber(command, 'limit')
  const filter = optionalDocument(command, 'filter') ?? {}
  const documents = selectDocuments(storedDocuments(context, name, filter), filter, {
    sort: optionalDocument(command, 'sort'),
    projection: optionalDocument(command, 'projection'),
    skip: optionalNumber(command, 'skip'),
    limit,
    collation: optionalDocument(command, 'collation'),
  })
  return context.cursors.first(`${context.db}.${name}`, documents, {
    batchSize: optionalNumber(command, 'batchSize'),
    // A negative limit is the legacy spelling of "one batch only".
    singleBatch: (optionalBoolean(command, 'singleBatch') ?? false) || (limit ?? 0) < 0,
  })
}

// Stages that write elsewhere or read server internals are beyond an in-memory test server.
const UNSUPPORTED_STAGES = ['$out', '$merge', '$currentOp', '$collStats', '$indexStats']

const aggregate: CommandHandler = (context) => {
  const { command, db } = context
  if (typeof command.aggregate !== 'string') {
    throw new CommandError('IllegalOperation', 'mongo-lite supports collection aggregations only')
  }
  const name = collectionName(context)
  const pipeline = documentArray(command, 'pipeline')
  for (const stage of pipeline) {
    const [operator = ''] = Object.keys(stage)
    if (UNSUPPORTED_STAGES.includes(operator)) {
      throw new CommandError('IllegalOperation', `mongo-lite does not support ${operator}`)
    }
  }
  const results = runPipeline(storedDocuments(context, name), pipeline, {
    collation: optionalDocument(command, 'collation'),
    resolve: (other) => storedDocuments(context, other),
  })
  const cursor = optionalDocument(command, 'cursor')
  return context.cursors.first(`${db}.${name}`, results, {
    batchSize: cursor ? optionalNumber(cursor, 'batchSize') : undefined,
  })
}

const count: CommandHandler = (context) => {
  const { command } = context
  const matched = selectStored(
    storedDocuments(context, collectionName(context)),
    optionalDocument(command, 'query') ?? {},
    { skip: optionalNumber(command, 'skip'), limit: optionalNumber(command, 'limit') },
  )
  return { n: matched.length }
}

/** Distinct values at a path; array values count element by element, as in mongod. */
const distinct: CommandHandler = (context) => {
  const { command } = context
  const key = command.key
  if (typeof key !== 'string')
    throw new CommandError('TypeMismatch', "BSON field 'key' must be a string")
  const matched = selectStored(
    storedDocuments(context, collectionName(context)),
    optionalDocument(command, 'query') ?? {},
  )
  const values = new Map<string, unknown>()
  const path = key.split('.')
  for (const document of matched) {
    for (const value of valuesAtPath(document, path)) {
      if (!values.has(valueKey(value))) values.set(valueKey(value), value)
    }
  }
  return { values: [...values.values()] }
}

function cursorId(value: unknown): Long {
  if (Long.isLong(value)) return value
  if (typeof value === 'number' && Number.isInteger(value)) return Long.fromNumber(value)
  throw new CommandError('TypeMismatch', "BSON field 'getMore' is the wrong type, expected long")
}

const getMore: CommandHandler = ({ command, cursors }) =>
  cursors.more(cursorId(command.getMore), optionalNumber(command, 'batchSize'))

const killCursors: CommandHandler = ({ command, cursors }) => {
  const ids: unknown = command.cursors
  if (!Array.isArray(ids))
    throw new CommandError('TypeMismatch', "BSON field 'cursors' must be an array")
  const { killed, notFound } = cursors.kill(ids.map(cursorId))
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [] }
}

export const readCommands: Record<string, CommandHandler> = {
  find,
  aggregate,
  count,
  distinct,
  getMore,
  killCursors,
}
