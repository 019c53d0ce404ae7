import { CommandError } from '../errors.js'
import { duplicateKeyError } from '../indexes.js'
import { projectDocument, selectStored } from '../query.js'
import { applyUpdate, buildUpsert, parseUpdateSpec } from '../update.js'
import {
  collectionName,
  optionalBoolean,
  optionalDocument,
  optionalDocumentArray,
} from './arguments.js'
import type { CommandHandler } from './context.js'

/**
 * findOneAndUpdate / findOneAndReplace / findOneAndDelete. Unlike batch writes, a duplicate
 * key fails the whole command (ok:0, codeName DuplicateKey), as mongod answers.
 */
const findAndModify: CommandHandler = (context) => {
  const { command, storage, db } = context
  const name = collectionName(context)
  const query = optionalDocument(command, 'query') ?? {}
  const fields = optionalDocument(command, 'fields')
  const remove = optionalBoolean(command, 'remove') ?? false
  const returnNew = optionalBoolean(command, 'new') ?? false
  if (remove && command.update !== undefined) {
    throw new CommandError('FailedToParse', 'Cannot specify both an update and remove=true')
  }
  if (!remove && command.update === undefined) {
    throw new CommandError('FailedToParse', 'Either an update or remove=true must be specified')
  }
  const collection = storage.collection(db, name)
  const [target] = collection
    ? selectStored(collection.candidates(query), query, {
        sort: optionalDocument(command, 'sort'),
        collation: optionalDocument(command, 'collation'),
        limit: 1,
      })
    : []

  if (remove) {
    if (collection && target) collection.remove(target)
    return {
      lastErrorObject: { n: target ? 1 : 0 },
      value: target ? projectDocument(target, fields) : null,
    }
  }

  const update = parseUpdateSpec(command.update)
  const options = { query, arrayFilters: optionalDocumentArray(command, 'arrayFilters') }
  if (collection && target) {
    const result = applyUpdate(target, update, options)
    if (result.modified) {
      const duplicate = collection.replace(target, result.document)
      if (duplicate) throw duplicateKeyError(collection.ns, duplicate)
    }
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: projectDocument(returnNew ? result.document : target, fields),
    }
  }
  if (command.upsert !== true) {
    return { lastErrorObject: { n: 0, updatedExisting: false }, value: null }
  }
  const upsertInto = storage.ensure(db, name)
  const document = buildUpsert(update, options)
  const duplicate = upsertInto.insert(document)
  if (duplicate) throw duplicateKeyError(upsertInto.ns, duplicate)
  return {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: document._id },
    value: returnNew ? projectDocument(document, fields) : null,
  }
}

export const findAndModifyCommands: Record<string, CommandHandler> = { findAndModify }
