import { UUID } from 'bson'
import { CommandError } from './errors.js'
import { cloneDocument, valueKey, type Document } from './documents.js'
import {
  ID_INDEX,
  Index,
  isLookupValue,
  sameKeys,
  type DuplicateKey,
  type IndexKey,
  type IndexSpec,
} from './indexes.js'

/** Key of a document in its collection: equal `_id` values (in MongoDB's sense) share it. */
export function idKey(document: Document): string {
  return valueKey(document._id)
}

/**
 * One collection: documents in insertion ("natural") order plus its indexes. Every write
 * checks all unique indexes before it changes anything, so a failed write leaves no trace.
 * Stored documents are never handed out for mutation; writers replace them whole.
 */
export class Collection {
  private readonly docs = new Map<string, Document>()
  /** Each document's place in natural order, for index lookups that return several. */
  private readonly places = new Map<string, number>()
  private inserted = 0
  private readonly indexList: Index[] = [new Index(ID_INDEX)]
  readonly uuid = new UUID()

  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document = {},
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`
  }

  get count(): number {
    return this.docs.size
  }

  /** The stored documents themselves: read them, clone before handing them out. */
  documents(): Document[] {
    return [...this.docs.values()]
  }

  /**
   * The documents a filter can match: one lookup when it asks for a plain value of `_id` or
   * of a field with a unique index; else, when it asks for one of the first field of another
   * index, the documents holding that value (the fewest such), in natural order; every
   * document otherwise. The filter itself is still applied to what this returns; this only
   * spares scanning the rest.
   */
  candidates(filter: Document): Document[] {
    let fewest: ReadonlySet<string> | undefined
    for (const [field, condition] of Object.entries(filter)) {
      const value = plainEquality(condition)
      if (value === undefined) continue
      if (field === '_id') {
        const document = this.docs.get(valueKey(value))
        return document ? [document] : []
      }
      for (const index of this.indexList) {
        const owner = index.ownerOf(field, value)
        if (owner !== undefined) {
          const document = owner === null ? undefined : this.docs.get(owner)
          return document ? [document] : []
        }
        const holders = index.holdersOf(field, value)
        if (holders && (!fewest || holders.size < fewest.size)) fewest = holders
      }
    }
    return fewest ? this.inNaturalOrder(fewest) : this.documents()
  }

  private inNaturalOrder(ids: ReadonlySet<string>): Document[] {
    const place = (id: string): number => this.places.get(id) ?? 0
    return [...ids].sort((x, y) => place(x) - place(y)).map((id) => this.docs.get(id) as Document)
  }

  get indexes(): readonly Index[] {
    return this.indexList
  }

  insert(document: Document): DuplicateKey | undefined {
    const id = idKey(document)
    // The _id index is unique without saying so; the document map itself enforces it.
    if (this.docs.has(id)) return { index: ID_INDEX, keyValue: { _id: document._id } }
    const keys = this.indexList.map((index) => index.keysOf(document))
    for (const [i, index] of this.indexList.entries()) {
      const duplicate = index.checkKeys(keys[i] as IndexKey[], id)
      if (duplicate) return duplicate
    }
    this.docs.set(id, document)
    this.places.set(id, this.inserted++)
    for (const [i, index] of this.indexList.entries()) index.addKeys(keys[i] as IndexKey[], id)
    return undefined
  }

  /** Swaps a stored document for its new version (same `_id`), keeping its natural position. */
  replace(previous: Document, next: Document): DuplicateKey | undefined {
    const id = idKey(previous)
    const changes: { index: Index; before: IndexKey[]; after: IndexKey[] }[] = []
    for (const index of this.indexList) {
      const before = index.keysOf(previous)
      const after = index.keysOf(next)
      // An update that leaves an index's fields alone leaves its entries as they are.
      if (sameKeys(before, after)) continue
      const duplicate = index.checkKeys(after, id)
      if (duplicate) return duplicate
      changes.push({ index, before, after })
    }
    for (const { index, before, after } of changes) {
      index.removeKeys(before, id)
      index.addKeys(after, id)
    }
    this.docs.set(id, next)
    return undefined
  }

  remove(document: Document): void {
    const id = idKey(document)
    for (const index of this.indexList) index.removeKeys(index.keysOf(document), id)
    this.docs.delete(id)
    this.places.delete(id)
  }

  /** Builds a new index over the existing documents; fails without change on a duplicate. */
  addIndex(spec: IndexSpec): DuplicateKey | undefined {
    const index = new Index(spec)
    for (const [id, document] of this.docs) {
      const duplicate = index.check(document, id)
      if (duplicate) return duplicate
      index.add(document, id)
    }
    this.indexList.push(index)
    return undefined
  }

  dropIndex(name: string): void {
    const position = this.indexList.findIndex((index) => index.spec.name === name)
    if (position > 0) this.indexList.splice(position, 1)
  }
}

/**
 * The value a filter condition asks equality with, when it is a lookup value (or
 * `{$eq: value}`); undefined for anything else (operators, regexes, arrays, documents, null),
 * which then takes the scan.
 */
function plainEquality(condition: unknown): unknown {
  let value = condition
  // `{$eq: v}` once: `{$eq: {$eq: v}}` asks for a document equal to `{$eq: v}`.
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.keys(value)
    if (entries.length === 1 && entries[0] === '$eq') value = (value as Document).$eq
  }
  return isLookupValue(value) ? value : undefined
}

/** A collection's state at one moment, or `undefined` if it did not exist. */
export interface CollectionSnapshot {
  readonly db: string
  readonly name: string
  readonly state?: { options: Document; indexes: IndexSpec[]; documents: Document[] }
}

const INVALID_DB_NAME = /[/\\. "$*<>:|?\0]/

/** All databases of the server, created implicitly by their first write. */
export class Storage {
  private readonly databases = new Map<string, Map<string, Collection>>()

  collection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name)
  }

  /** Returns the collection, creating it (and its database) if needed. */
  ensure(db: string, name: string, options: Document = {}): Collection {
    return this.collection(db, name) ?? this.create(db, name, options)
  }

  create(db: string, name: string, options: Document = {}): Collection {
    validateNamespace(db, name)
    let collections = this.databases.get(db)
    if (!collections) {
      collections = new Map()
      this.databases.set(db, collections)
    }
    if (collections.has(name)) {
      throw new CommandError('NamespaceExists', `Collection ${db}.${name} already exists.`)
    }
    const collection = new Collection(db, name, options)
    collections.set(name, collection)
    return collection
  }

  drop(db: string, name: string): boolean {
    const collections = this.databases.get(db)
    const dropped = collections?.delete(name) ?? false
    if (collections?.size === 0) this.databases.delete(db)
    return dropped
  }

  dropDatabase(db: string): void {
    this.databases.delete(db)
  }

  databaseNames(): string[] {
    return [...this.databases.keys()]
  }

  collections(db: string): Collection[] {
    return [...(this.databases.get(db)?.values() ?? [])]
  }

  allCollections(): Collection[] {
    return [...this.databases.values()].flatMap((collections) => [...collections.values()])
  }

  snapshot(db: string, name: string): CollectionSnapshot {
    const collection = this.collection(db, name)
    if (!collection) return { db, name }
    return {
      db,
      name,
      state: {
        options: cloneDocument(collection.options),
        indexes: collection.indexes.slice(1).map((index) => cloneDocument(index.spec) as IndexSpec),
        documents: collection.documents().map(cloneDocument),
      },
    }
  }

  /** Puts a collection back exactly as snapshotted, dropping whatever happened since. */
  restore(snapshot: CollectionSnapshot): void {
    this.drop(snapshot.db, snapshot.name)
    if (!snapshot.state) return
    const collection = this.create(snapshot.db, snapshot.name, snapshot.state.options)
    // The snapshot held a consistent state, so rebuilding it cannot hit a duplicate.
    for (const document of snapshot.state.documents) collection.insert(document)
    for (const spec of snapshot.state.indexes) collection.addIndex(spec)
  }
}

function validateNamespace(db: string, name: string): void {
  if (db.length === 0 || db.length > 63 || INVALID_DB_NAME.test(db)) {
    throw new CommandError('InvalidNamespace', `Invalid database name: '${db}'`)
  }
  if (name.length === 0 || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw new CommandError('InvalidNamespace', `Invalid collection name: '${name}'`)
  }
}
