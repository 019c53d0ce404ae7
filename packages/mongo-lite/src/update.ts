import { ObjectId } from 'bson'
import { update as applyOperators } from 'mingo'
import { isEqual } from 'mingo/util'
import { CommandError, mingo } from './errors.js'
import {
  cloneDocument,
  cloneValue,
  isPlainObject,
  sameValueKey,
  setPath,
  valueKey,
  withIdFirst,
  type Document,
} from './documents.js'
import { MINGO_OPTIONS, runPipeline } from './query.js'

/** The `u` of an update statement: operators, a replacement document, or a pipeline. */
export type UpdateSpec = Document | Document[]

export interface UpdateOptions {
  readonly query: Document
  readonly arrayFilters?: Document[]
}

export function parseUpdateSpec(value: unknown): UpdateSpec {
  if (Array.isArray(value) && value.every(isPlainObject)) return value
  if (isPlainObject(value)) return value
  throw new CommandError('FailedToParse', 'Update argument must be either an object or an array')
}

function isOperatorUpdate(update: Document): boolean {
  const first = Object.keys(update)[0]
  return first?.startsWith('$') ?? false
}

/**
 * Applies an update to a copy of `document` (a stored document that `options.query` selected)
 * and returns the copy; `modified` is false when the update changed nothing (MongoDB then
 * counts the document as matched, not modified).
 */
export function applyUpdate(
  document: Document,
  update: UpdateSpec,
  options: UpdateOptions,
): { document: Document; modified: boolean } {
  const next = computeUpdate(document, update, options, false)
  if (!sameValueKey(next._id, document._id)) {
    throw new CommandError(
      'ImmutableField',
      "Performing an update on the path '_id' would modify the immutable field '_id'",
    )
  }
  return { document: next, modified: !sameValueKey(next, document) }
}

/** The document an upsert inserts: the query's equality fields with the update applied. */
export function buildUpsert(update: UpdateSpec, options: UpdateOptions): Document {
  const seed = equalityFields(options.query)
  const inserted = computeUpdate(seed, update, options, true)
  if (inserted._id === undefined) inserted._id = new ObjectId()
  return withIdFirst(inserted)
}

function computeUpdate(
  document: Document,
  update: UpdateSpec,
  options: UpdateOptions,
  inserting: boolean,
): Document {
  if (Array.isArray(update)) return pipelineUpdate(document, update)
  if (isOperatorUpdate(update)) {
    return (
      (inserting ? undefined : topLevelUpdate(document, update, options)) ??
      runOperators(document, update, options, inserting)
    )
  }
  return replacement(document, update)
}

const TOP_LEVEL_OPERATORS = new Set(['$set', '$unset', '$inc', '$push', '$setOnInsert'])

/**
 * The common updates, `$set`, `$unset`, `$inc` and `$push` (of one value) of top-level
 * fields other than `_id`, applied exactly as mingo's updater applies them but without its
 * per-call set-up, which costs many times the update itself. Undefined for anything else (paths, positional or
 * array-filtered updates, other operators, conflicting fields, bad arguments), which mingo
 * applies or rejects. mingo's updater would first test the document against the query again;
 * that is left out because the document was selected by that very query.
 *
 * The copy shares the fields it does not change with `document`: stored documents are never
 * changed in place, so two versions can share parts.
 */
function topLevelUpdate(
  document: Document,
  update: Document,
  options: UpdateOptions,
): Document | undefined {
  if (options.arrayFilters !== undefined) return undefined
  const seen = new Set<string>()
  for (const operator in update) {
    const fields = update[operator]
    if (!TOP_LEVEL_OPERATORS.has(operator) || !isPlainObject(fields)) return undefined
    if (operator === '$setOnInsert') continue
    for (const field in fields) {
      if (field === '_id' || seen.has(field) || !isTopLevelField(field)) return undefined
      if (operator === '$inc' && !isNumber(fields[field])) return undefined
      // $push with modifiers ($each, $slice...) is mingo's.
      if (operator === '$push' && isPlainObject(fields[field])) return undefined
      seen.add(field)
    }
  }
  const next: Document = { ...document }
  for (const operator in update) {
    const fields = update[operator] as Document
    for (const field in fields) {
      const value = fields[field]
      if (operator === '$set') {
        if (!isEqual(next[field], value)) next[field] = cloneValue(value)
      } else if (operator === '$unset') {
        Reflect.deleteProperty(next, field)
      } else if (operator === '$inc') {
        const current = next[field]
        if (isNumber(current) || current === undefined)
          next[field] = (current || 0) + (value as number)
      } else if (operator === '$push') {
        // A new array, as the stored one may not change; a field that is not an array is
        // left as it is.
        const current = next[field]
        if (current === undefined) next[field] = [cloneValue(value)]
        else if (Array.isArray(current)) {
          const longer = current.slice()
          longer.push(cloneValue(value))
          next[field] = longer
        }
      }
    }
  }
  return next
}

function isTopLevelField(field: string): boolean {
  return field !== '' && field !== '__proto__' && !field.includes('.') && !field.includes('$')
}

/** mingo's notion of a number: NaN is not one. */
function isNumber(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value)
}

function pipelineUpdate(document: Document, pipeline: Document[]): Document {
  const [result] = runPipeline([document], pipeline, { resolve: () => [] })
  if (!result) throw new CommandError('BadValue', 'update pipeline removed the document')
  return result
}

function replacement(document: Document, update: Document): Document {
  for (const key of Object.keys(update)) {
    if (key.startsWith('$')) {
      throw new CommandError(
        'BadValue',
        `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document.`,
      )
    }
  }
  const next = cloneDocument(update)
  if (next._id === undefined && document._id !== undefined) next._id = document._id
  return withIdFirst(next)
}

function runOperators(
  document: Document,
  update: Document,
  options: UpdateOptions,
  inserting: boolean,
): Document {
  // mingo has no $setOnInsert: on insert it is a $set, otherwise it does nothing.
  const { $setOnInsert, ...operators } = update
  for (const key of Object.keys(operators)) {
    if (!key.startsWith('$')) {
      throw new CommandError(
        'FailedToParse',
        `Unknown modifier: ${key}. Expected a valid update modifier or pipeline-style update specified as an array`,
      )
    }
  }
  if (inserting && isPlainObject($setOnInsert)) {
    operators.$set = { ...(isPlainObject(operators.$set) ? operators.$set : {}), ...$setOnInsert }
  }
  const next = cloneDocument(document)
  // mingo refuses any write to _id, but MongoDB allows setting it on insert (from $set or
  // $setOnInsert) and setting it to the value it already has.
  const set = operators.$set
  if (isPlainObject(set) && '_id' in set) {
    if (next._id === undefined) next._id = cloneValue(set._id)
    if (valueKey(set._id) === valueKey(next._id)) {
      const rest = { ...set }
      delete rest._id
      operators.$set = rest
    }
  }
  const active = Object.entries(operators).filter(
    ([, fields]) => !isPlainObject(fields) || Object.keys(fields).length > 0,
  )
  if (active.length === 0) return next
  mingo(() =>
    applyOperators(
      next,
      cloneValue(Object.fromEntries(active)),
      options.arrayFilters,
      options.query,
      {
        cloneMode: 'deep',
        queryOptions: MINGO_OPTIONS,
      },
    ),
  )
  return next
}

/** The fields an upsert copies from its query: plain equalities, also inside `$and`. */
function equalityFields(query: Document, into: Document = {}): Document {
  for (const [key, value] of Object.entries(query)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const clause of value) if (isPlainObject(clause)) equalityFields(clause, into)
    } else if (key.startsWith('$') || value instanceof RegExp) {
      continue
    } else if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
      if ('$eq' in value) setPath(into, key, cloneValue(value.$eq))
    } else {
      setPath(into, key, cloneValue(value))
    }
  }
  return into
}
