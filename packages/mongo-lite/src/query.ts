import { ObjectId } from 'bson'
import { Aggregator, Query } from 'mingo'
import type { CollationSpec } from 'mingo/types'
import { mingo } from './errors.js'
import {
  cloneDocument,
  defineField,
  isPlainObject,
  withIdFirst,
  type Document,
} from './documents.js'

// Client-supplied JavaScript ($where, $function) is never run.
export const MINGO_OPTIONS = { scriptEnabled: false }

export interface SelectOptions {
  sort?: Document | undefined
  skip?: number | undefined
  limit?: number | undefined
  projection?: Document | undefined
  /** Applied to sorting only (mingo compares strings for equality without it). */
  collation?: Document | undefined
}

/**
 * The documents a query selects, sorted, paged and projected, in MongoDB's shape (`_id`
 * first), to be serialised into a reply. Stored documents are never changed in place (writers
 * replace them whole), so they are handed out as they are, not copied.
 */
export function selectDocuments(
  documents: Document[],
  filter: Document,
  options: SelectOptions = {},
): Document[] {
  return selectStored(documents, filter, options).map(withIdFirst)
}

/**
 * A test equivalent to mingo's for a filter made only of top-level equalities with a string,
 * number, boolean, null or ObjectId (plain or as `{$eq: value}`), as lookups by `_id` or by a
 * unique field are. Undefined for any other filter, which mingo evaluates. Compiling a mingo
 * query costs far more than the lookup it serves.
 */
export function simpleMatcher(filter: Document): ((document: Document) => boolean) | undefined {
  const fields: string[] = []
  const values: unknown[] = []
  for (const field in filter) {
    if (!Object.hasOwn(filter, field)) continue
    if (field === '' || field === '__proto__' || field.startsWith('$') || field.includes('.')) {
      return undefined
    }
    let value = filter[field]
    if (isPlainObject(value)) {
      let only: string | undefined
      for (const key in value) {
        if (only !== undefined) return undefined
        only = key
      }
      if (only !== '$eq') return undefined
      value = value.$eq
    }
    if (!isSimpleValue(value)) return undefined
    fields.push(field)
    values.push(value)
  }
  return (document) => {
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as string
      if (!matchesValue(Object.hasOwn(document, field) ? document[field] : undefined, values[i])) {
        return false
      }
    }
    return true
  }
}

/**
 * mingo's projection for one that only includes or only excludes top-level fields (0, 1,
 * true or false, `_id` either way), as reads of a few fields of a user or session are:
 * included fields come out in sorted order after `_id` (where selectDocuments puts `_id`
 * anyway), excluded ones leave the others in place. Undefined for any other projection,
 * which mingo applies or rejects.
 */
export function simpleProjection(
  projection: Document,
): ((document: Document) => Document) | undefined {
  const fields: string[] = []
  let including: boolean | undefined
  let keepId: boolean | undefined
  for (const field in projection) {
    const value = projection[field]
    const on =
      value === 1 || value === true ? true : value === 0 || value === false ? false : undefined
    if (on === undefined || field === '' || field === '__proto__' || field.startsWith('$')) {
      return undefined
    }
    if (field.includes('.')) return undefined
    if (field === '_id') {
      keepId = on
      continue
    }
    if (including !== undefined && including !== on) return undefined
    including = on
    fields.push(field)
  }
  if (including === undefined) {
    // Only _id: {_id: 1} keeps nothing else, {_id: 0} everything else.
    if (keepId === undefined) return (document) => document
    including = keepId
  }
  // mingo refuses to keep _id explicitly next to excluded fields.
  if (!including && keepId === true && fields.length > 0) return undefined
  if (including) {
    const included = fields.sort()
    return (document) => {
      const projected: Document = {}
      if (keepId !== false && Object.hasOwn(document, '_id')) projected._id = document._id
      for (const field of included) {
        if (Object.hasOwn(document, field)) projected[field] = document[field]
      }
      return projected
    }
  }
  const excluded = new Set(fields)
  if (keepId === false) excluded.add('_id')
  return (document) => {
    const projected: Document = {}
    for (const field of Object.keys(document)) {
      if (!excluded.has(field)) defineField(projected, field, document[field])
    }
    return projected
  }
}

function isSimpleValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true
    case 'object':
      return value === null || value instanceof ObjectId
    default:
      return false
  }
}

/** mingo's `$eq` on a top-level field, for the values isSimpleValue admits. */
function matchesValue(stored: unknown, wanted: unknown): boolean {
  if (sameSimpleValue(stored, wanted)) return true
  // null also matches a missing field; arrays match when one of their elements does.
  if (wanted === null && stored === undefined) return true
  return Array.isArray(stored) && stored.some((item) => sameSimpleValue(item, wanted))
}

function sameSimpleValue(stored: unknown, wanted: unknown): boolean {
  if (stored === wanted || Object.is(stored, wanted)) return true
  return (
    wanted instanceof ObjectId &&
    stored instanceof ObjectId &&
    stored.constructor === wanted.constructor &&
    stored.toHexString() === wanted.toHexString()
  )
}

/**
 * Like selectDocuments without a projection, but returns the stored documents themselves:
 * for writers, which must replace them rather than change them.
 */
export function selectStored(
  documents: Document[],
  filter: Document,
  options: SelectOptions = {},
): Document[] {
  const { skip, limit, projection, collation } = options
  // {$natural: ±1} means insertion order (or its reverse), which is how documents are stored.
  const natural = options.sort?.$natural
  const sort = Object.entries(options.sort ?? {}).filter(([field]) => field !== '$natural')
  const source = natural === -1 ? [...documents].reverse() : documents
  const simple = sort.length === 0 && !skip && !collation ? simpleMatcher(filter) : undefined
  const project = simple && projection ? simpleProjection(projection) : undefined
  if (simple && (!projection || project)) {
    const wanted = limit ? Math.abs(limit) : Infinity
    const selected: Document[] = []
    for (const document of source) {
      if (selected.length >= wanted) break
      if (simple(document)) selected.push(project ? project(document) : document)
    }
    return selected
  }
  return mingo(() => {
    // Not mingo's find(), which builds its table of operators twice over for every query.
    let cursor = new Query(filter, {
      ...MINGO_OPTIONS,
      collation: collation as CollationSpec | undefined,
    }).find<Document>(source, projection)
    if (sort.length > 0) cursor = cursor.sort(Object.fromEntries(sort))
    if (skip) cursor = cursor.skip(skip)
    if (limit) cursor = cursor.limit(Math.abs(limit))
    return cursor.all()
  })
}

/** A stored document as a reply carries it (like selectDocuments, not a copy). */
export function projectDocument(document: Document, projection: Document | undefined): Document {
  if (!projection || Object.keys(projection).length === 0) return document
  const [projected] = selectDocuments([document], {}, { projection })
  return projected ?? {}
}

export function matches(filter: Document, document: Document): boolean {
  return mingo(() => new Query(filter, MINGO_OPTIONS).test(document))
}

/** Runs a pipeline over copies of the documents (mingo's stages may change their input). */
export function runPipeline(
  documents: Document[],
  pipeline: Document[],
  options: { collation?: Document | undefined; resolve: (name: string) => Document[] },
): Document[] {
  return mingo(() =>
    // Not mingo's aggregate(), which builds its table of operators twice over for every call.
    new Aggregator(pipeline, {
      ...MINGO_OPTIONS,
      collation: options.collation as CollationSpec | undefined,
      collectionResolver: (name) => options.resolve(name).map(cloneDocument),
    }).run(documents.map(cloneDocument)),
  ).map((document) => cloneDocument(document))
}
