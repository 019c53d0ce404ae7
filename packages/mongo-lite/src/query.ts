import { aggregate, find, Query } from 'mingo'
import type { CollationSpec } from 'mingo/types'
import { mingo } from './errors.js'
import { cloneDocument, withIdFirst, type Document } from './documents.js'

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
 * The documents a query selects, sorted, paged and projected. Returns clones, in MongoDB's
 * shape (`_id` first), safe to hand out.
 */
export function selectDocuments(
  documents: Document[],
  filter: Document,
  options: SelectOptions = {},
): Document[] {
  return selectStored(documents, filter, options).map((document) =>
    withIdFirst(cloneDocument(document)),
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
  return mingo(() => {
    let cursor = find(source, filter, projection, {
      ...MINGO_OPTIONS,
      collation: collation as CollationSpec | undefined,
    })
    if (sort.length > 0) cursor = cursor.sort(Object.fromEntries(sort))
    if (skip) cursor = cursor.skip(skip)
    if (limit) cursor = cursor.limit(Math.abs(limit))
    return cursor.all()
  })
}

export function projectDocument(document: Document, projection: Document | undefined): Document {
  if (!projection || Object.keys(projection).length === 0) return cloneDocument(document)
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
    aggregate(documents.map(cloneDocument), pipeline, {
      ...MINGO_OPTIONS,
      collation: options.collation as CollationSpec | undefined,
      collectionResolver: (name) => options.resolve(name).map(cloneDocument),
    }),
  ).map((document) => cloneDocument(document))
}
