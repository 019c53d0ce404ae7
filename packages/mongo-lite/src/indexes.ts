import { Query } from 'mingo'
import { CommandError } from './errors.js'
import {
  isPlainObject,
  renderDocument,
  valueKey,
  valuesAtPath,
  type Document,
} from './documents.js'

/** An index as listIndexes reports it. Options we do not enforce are kept and reported. */
export interface IndexSpec extends Document {
  v: number
  key: Document
  name: string
  unique?: boolean
  sparse?: boolean
  partialFilterExpression?: Document
  expireAfterSeconds?: number
  collation?: Document
}

/** Where an insert or update would break a unique index, in the terms E11000 reports. */
export interface DuplicateKey {
  readonly index: IndexSpec
  readonly keyValue: Document
}

export const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' }

// What makes two indexes different indexes, as mongod decides it: they may then coexist.
// Other options (expireAfterSeconds, hidden...) only make them conflicting versions of one.
const IDENTIFYING_OPTIONS = ['key', 'unique', 'sparse', 'collation', 'partialFilterExpression']

/** Validates a createIndexes entry and fills in what mongod fills in. */
export function normalizeIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw) || !isPlainObject(raw.key) || Object.keys(raw.key).length === 0) {
    throw new CommandError('FailedToParse', 'index specification must have a non-empty key')
  }
  const key = raw.key
  const name = typeof raw.name === 'string' ? raw.name : defaultIndexName(key)
  // mongod lists v, key and name first.
  const spec: IndexSpec = { v: 2, key, name, ...raw }
  spec.v = 2
  spec.name = name
  // `background` is accepted and dropped, as mongod 4.2+ does; `ns` is legacy.
  delete spec.background
  delete spec.ns
  if (spec.unique === false) delete spec.unique
  if (spec.sparse === false) delete spec.sparse
  if (spec.expireAfterSeconds !== undefined && typeof spec.expireAfterSeconds !== 'number') {
    throw new CommandError('TypeMismatch', 'expireAfterSeconds must be a number')
  }
  return spec
}

export function defaultIndexName(key: Document): string {
  return Object.entries(key)
    .map(([field, direction]) => `${field}_${String(direction)}`)
    .join('_')
}

export function sameIndexIdentity(a: IndexSpec, b: IndexSpec): boolean {
  return IDENTIFYING_OPTIONS.every((option) => valueKey(a[option]) === valueKey(b[option]))
}

/** Whether the non-identifying options (everything but name, v and identity) agree. */
export function sameIndexOptions(a: IndexSpec, b: IndexSpec): boolean {
  const rest = (spec: IndexSpec) =>
    valueKey(
      Object.entries(spec)
        .filter(([option]) => option !== 'v' && option !== 'name')
        .filter(([option]) => !IDENTIFYING_OPTIONS.includes(option))
        .sort(([x], [y]) => x.localeCompare(y)),
    )
  return rest(a) === rest(b)
}

/**
 * One index of a collection. A unique index keeps its keys (key → owning `_id` key), to refuse
 * duplicates and answer lookups. Any other full index on a top-level first field keeps that
 * field's lookup values (key → `_id` keys), so that equality on it reads those documents
 * instead of scanning the collection, as mongod's index scan would. Other indexes are specs.
 */
export class Index {
  private readonly entries = new Map<string, string>()
  private readonly buckets: Map<string, Set<string>> | undefined
  private readonly fields: { name: string; path: string[] }[]
  private readonly partial: Query | undefined
  private readonly foldCase: boolean

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key).map((name) => ({ name, path: name.split('.') }))
    this.partial = spec.partialFilterExpression
      ? new Query(spec.partialFilterExpression)
      : undefined
    // Strength 1 and 2 collations compare strings without case.
    const strength = spec.collation?.strength
    this.foldCase = typeof strength === 'number' && strength <= 2
    const lead = this.fields[0]
    // The `_id` index needs none: the collection's own map answers `_id` lookups.
    const plain = !this.unique && !this.partial && !spec.sparse && spec.name !== ID_INDEX.name
    if (plain && lead && lead.path.length === 1) {
      this.buckets = new Map()
    }
  }

  get unique(): boolean {
    return this.spec.unique === true
  }

  /** The duplicate, if `document` (owned by `id`) would repeat another document's key. */
  check(document: Document, id: string): DuplicateKey | undefined {
    return this.checkKeys(this.keysOf(document), id)
  }

  add(document: Document, id: string): void {
    this.addKeys(this.keysOf(document), id)
  }

  remove(document: Document, id: string): void {
    this.removeKeys(this.keysOf(document), id)
  }

  // The same on keys computed once by keysOf, for a write that checks and then adds them.

  checkKeys(keys: readonly IndexKey[], id: string): DuplicateKey | undefined {
    if (!this.unique) return undefined
    for (const { key, values } of keys) {
      const owner = this.entries.get(key)
      if (owner !== undefined && owner !== id) return { index: this.spec, keyValue: values }
    }
    return undefined
  }

  addKeys(keys: readonly IndexKey[], id: string): void {
    const { buckets } = this
    for (const { key } of keys) {
      if (!buckets) {
        this.entries.set(key, id)
        continue
      }
      const bucket = buckets.get(key)
      if (bucket) bucket.add(id)
      else buckets.set(key, new Set([id]))
    }
  }

  removeKeys(keys: readonly IndexKey[], id: string): void {
    const { buckets } = this
    for (const { key } of keys) {
      if (!buckets) {
        if (this.entries.get(key) === id) this.entries.delete(key)
        continue
      }
      const bucket = buckets.get(key)
      bucket?.delete(id)
      if (bucket?.size === 0) buckets.delete(key)
    }
  }

  /**
   * The `_id` key of the document whose single indexed field equals `value`, for a unique,
   * full (not sparse, not partial) index on exactly that field; `undefined` when this index
   * cannot answer. `null` when it can and no document has that value.
   */
  ownerOf(field: string, value: unknown): string | null | undefined {
    if (!this.unique || this.partial || this.spec.sparse || this.fields.length !== 1)
      return undefined
    if (this.fields[0]?.name !== field) return undefined
    return this.entries.get(singleKey(value, this.foldCase)) ?? null
  }

  /**
   * The `_id` keys of the documents whose first indexed field equals `value` (a lookup value),
   * for an index that is not unique; `undefined` when this index cannot answer.
   */
  holdersOf(field: string, value: unknown): ReadonlySet<string> | undefined {
    if (!this.buckets || this.fields[0]?.name !== field) return undefined
    return this.buckets.get(singleKey(value, this.foldCase)) ?? noHolders
  }

  /** False when a partial index leaves the document out. */
  covers(document: Document): boolean {
    return !this.partial || this.partial.test(document)
  }

  /**
   * The index keys of a document: several for array values, none if sparse/partial skip it.
   * For an index that is not unique, the lookup values of its first field only.
   */
  keysOf(document: Document): IndexKey[] {
    if (this.buckets) return this.leadKeysOf(document)
    if (!this.unique || !this.covers(document)) return []
    const perField = this.fields.map(({ path }) => valuesAtPath(document, path))
    if (this.spec.sparse && perField.every((values) => values.length === 0)) return []
    const [only] = this.fields
    if (only && perField.length === 1) {
      // One field, the usual case: no combinations to build.
      const found = perField[0] as unknown[]
      return (found.length === 0 ? [null] : found).map((value) => {
        const values: Document = {}
        values[only.name] = value ?? null
        return { key: singleKey(value, this.foldCase), values }
      })
    }
    // A missing field is indexed as null, so two documents without it collide.
    let combos: unknown[][] = [[]]
    for (const values of perField) {
      const choices = values.length === 0 ? [null] : values
      combos = combos.flatMap((combo) => choices.map((value) => [...combo, value]))
    }
    return combos.map((combo) => {
      const values: Document = {}
      this.fields.forEach(({ name }, i) => (values[name] = combo[i] ?? null))
      return { key: valueKey(combo, this.foldCase), values }
    })
  }

  private leadKeysOf(document: Document): IndexKey[] {
    const { name, path } = this.fields[0] as { name: string; path: string[] }
    const keys: IndexKey[] = []
    for (const value of valuesAtPath(document, path)) {
      if (!isLookupValue(value)) continue
      const values: Document = {}
      values[name] = value
      keys.push({ key: singleKey(value, this.foldCase), values })
    }
    return keys
  }
}

/**
 * A value that an equality lookup may ask for: a string, a number, an ObjectId or a bson
 * number. Anything else takes the scan: null, booleans, dates, arrays, documents, regexes (they
 * match by pattern), Binary (the query engine compares it by its text, not subtype and bytes),
 * and bson values holding documents (Code with a scope, DBRef), whose keys depend on field
 * order where the query engine's equality does not.
 */
export function isLookupValue(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'number') return true
  return (
    value !== null &&
    typeof value === 'object' &&
    '_bsontype' in value &&
    lookupTypes.has(value._bsontype as string)
  )
}

const lookupTypes = new Set(['ObjectId', 'Long', 'Int32', 'Double', 'Timestamp'])

const noHolders: ReadonlySet<string> = new Set()

/** One key of a document in an index, and the field values it stands for (E11000's keyValue). */
export interface IndexKey {
  readonly key: string
  readonly values: Document
}

/** `valueKey([value])`, the key of a one-field index, without the array. */
function singleKey(value: unknown, foldCase: boolean): string {
  return `[${valueKey(value, foldCase)}]`
}

/** Whether two lists of keys are the same keys in the same order. */
export function sameKeys(a: readonly IndexKey[], b: readonly IndexKey[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i]?.key !== b[i]?.key) return false
  return true
}

export function duplicateKeyMessage(ns: string, duplicate: DuplicateKey): string {
  const key = renderDocument(duplicate.keyValue)
  return `E11000 duplicate key error collection: ${ns} index: ${duplicate.index.name} dup key: ${key}`
}

/** The fields a write error or an ok:0 reply carries for a duplicate key. */
export function duplicateKeyFields(ns: string, duplicate: DuplicateKey): Document {
  return {
    code: 11000,
    errmsg: duplicateKeyMessage(ns, duplicate),
    keyPattern: duplicate.index.key,
    keyValue: duplicate.keyValue,
  }
}

/** The error of a command that fails as a whole on a duplicate key (findAndModify, createIndexes). */
export function duplicateKeyError(ns: string, duplicate: DuplicateKey): CommandError {
  const { errmsg, keyPattern, keyValue } = duplicateKeyFields(ns, duplicate)
  return new CommandError('DuplicateKey', String(errmsg), { keyPattern, keyValue })
}
