import { CommandError } from '../errors.js'
import { cloneDocument, type Document } from '../documents.js'
import { ID_INDEX } from '../indexes.js'
import { matches } from '../query.js'
import { collectionName, optionalDocument } from './arguments.js'
import type { CommandHandler } from './context.js'

/** Fields every command may carry that are not options of the command itself. */
const GENERIC_FIELDS = new Set([
  'lsid',
  '$db',
  'txnNumber',
  'autocommit',
  'startTransaction',
  'writeConcern',
  'readConcern',
  'comment',
  'maxTimeMS',
  '$clusterTime',
  '$readPreference',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
])

function commandOptions(command: Document): Document {
  const [, ...fields] = Object.entries(command)
  return Object.fromEntries(fields.filter(([field]) => !GENERIC_FIELDS.has(field)))
}

const create: CommandHandler = (context) => {
  const name = collectionName(context)
  context.storage.create(context.db, name, cloneDocument(commandOptions(context.command)))
  return {}
}

const drop: CommandHandler = (context) => {
  const name = collectionName(context)
  const collection = context.storage.collection(context.db, name)
  if (!collection) throw new CommandError('NamespaceNotFound', 'ns not found')
  context.storage.drop(context.db, name)
  return { nIndexesWas: collection.indexes.length, ns: collection.ns }
}

const dropDatabase: CommandHandler = ({ storage, db }) => {
  storage.dropDatabase(db)
  return { dropped: db }
}

const listCollections: CommandHandler = ({ command, storage, cursors, db }) => {
  const filter = optionalDocument(command, 'filter') ?? {}
  const cursor = optionalDocument(command, 'cursor')
  const entries = storage
    .collections(db)
    .map((collection) => ({
      name: collection.name,
      type: 'collection',
      options: cloneDocument(collection.options),
      info: { readOnly: false, uuid: collection.uuid },
      idIndex: ID_INDEX,
    }))
    .filter((entry) => matches(filter, entry))
    .sort((a, b) => a.name.localeCompare(b.name))
  const documents =
    command.nameOnly === true ? entries.map(({ name, type }) => ({ name, type })) : entries
  const batchSize = cursor?.batchSize
  return cursors.first(`${db}.$cmd.listCollections`, documents, {
    batchSize: typeof batchSize === 'number' ? batchSize : undefined,
  })
}

export const collectionCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  listCollections,
}
