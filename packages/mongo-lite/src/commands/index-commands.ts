import { CommandError } from '../errors.js'
import { cloneDocument, isPlainObject, renderDocument, valueKey } from '../documents.js'
import {
  duplicateKeyError,
  normalizeIndexSpec,
  sameIndexIdentity,
  sameIndexOptions,
  type IndexSpec,
} from '../indexes.js'
import type { Collection } from '../storage.js'
import { collectionName } from './arguments.js'
import type { CommandHandler } from './context.js'

/**
 * Whether `spec` already exists; throws mongod's errors for a name or an index that is
 * taken with a different definition.
 */
function alreadyExists(collection: Collection, spec: IndexSpec): boolean {
  for (const { spec: existing } of collection.indexes) {
    const sameName = existing.name === spec.name
    const sameIdentity = sameIndexIdentity(existing, spec)
    if (!sameName && !sameIdentity) continue
    const sameOptions = sameIndexOptions(existing, spec)
    const requested = `Requested index: ${renderDocument(spec)}, existing index: ${renderDocument(existing)}`
    if (sameName && !sameIdentity) {
      throw new CommandError(
        'IndexKeySpecsConflict',
        `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. ${requested}`,
      )
    }
    if (!sameOptions || !sameName) {
      const which = sameName
        ? 'the same name but different options'
        : sameOptions
          ? `a different name: ${existing.name}`
          : 'a different name and options'
      throw new CommandError(
        'IndexOptionsConflict',
        `An equivalent index already exists with ${which}. ${requested}`,
      )
    }
    return true
  }
  return false
}

const createIndexes: CommandHandler = (context) => {
  const name = collectionName(context)
  const { command, storage, db } = context
  const raw: unknown = command.indexes
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new CommandError('FailedToParse', 'Must specify at least one index to create')
  }
  const specs = raw.map(normalizeIndexSpec)
  const existed = storage.collection(db, name) !== undefined
  const collection = storage.ensure(db, name)
  const numIndexesBefore = collection.indexes.length
  for (const spec of specs) {
    if (alreadyExists(collection, spec)) continue
    const duplicate = collection.addIndex(spec)
    if (duplicate) throw duplicateKeyError(collection.ns, duplicate)
  }
  const numIndexesAfter = collection.indexes.length
  return {
    numIndexesBefore,
    numIndexesAfter,
    createdCollectionAutomatically: !existed,
    ...(numIndexesAfter === numIndexesBefore ? { note: 'all indexes already exist' } : {}),
  }
}

const listIndexes: CommandHandler = (context) => {
  const name = collectionName(context)
  const collection = context.storage.collection(context.db, name)
  if (!collection) {
    throw new CommandError('NamespaceNotFound', `ns does not exist: ${context.db}.${name}`)
  }
  const specs = collection.indexes.map((index) => cloneDocument(index.spec))
  return context.cursors.first(collection.ns, specs)
}

const dropIndexes: CommandHandler = (context) => {
  const name = collectionName(context)
  const collection = context.storage.collection(context.db, name)
  if (!collection) throw new CommandError('NamespaceNotFound', `ns not found ${context.db}.${name}`)
  const nIndexesWas = collection.indexes.length
  const target: unknown = context.command.index
  const names =
    target === '*'
      ? collection.indexes.slice(1).map((index) => index.spec.name)
      : indexNames(collection, target)
  for (const indexName of names) {
    if (indexName === '_id_') throw new CommandError('InvalidOptions', 'cannot drop _id index')
    if (!collection.indexes.some((index) => index.spec.name === indexName)) {
      throw new CommandError('IndexNotFound', `index not found with name [${indexName}]`)
    }
  }
  for (const indexName of names) collection.dropIndex(indexName)
  return { nIndexesWas }
}

/** `index` may be a name, a list of names or a key pattern. */
function indexNames(collection: Collection, target: unknown): string[] {
  if (typeof target === 'string') return [target]
  if (Array.isArray(target) && target.every((item) => typeof item === 'string')) return target
  if (isPlainObject(target)) {
    const found = collection.indexes.find((index) => valueKey(index.spec.key) === valueKey(target))
    if (!found) {
      throw new CommandError(
        'IndexNotFound',
        `can't find index with key: ${renderDocument(target)}`,
      )
    }
    return [found.spec.name]
  }
  throw new CommandError('TypeMismatch', "BSON field 'index' is the wrong type")
}

export const indexCommands: Record<string, CommandHandler> = {
  createIndexes,
  listIndexes,
  dropIndexes,
}
