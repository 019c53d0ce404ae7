import { CommandError } from './errors.js'

// Helpers for BSON values as the bson package deserializes them: plain objects and arrays,
// Dates, RegExps, and class instances tagged with `_bsontype` (ObjectId, Binary, Decimal128...).

/** A BSON document; fields are `unknown` until checked. */
export type Document = Record<string, unknown>

export function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function bsonType(value: object): string | undefined {
  const tag: unknown = (value as { _bsontype?: unknown })._bsontype
  return typeof tag === 'string' ? tag : undefined
}

/**
 * Deep copy, so stored documents never share objects with what goes in or out. BSON class
 * instances are immutable in practice and kept as they are, except Binary whose buffer is not.
 */
export function cloneValue<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((item: unknown) => cloneValue(item)) as T
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (isPlainObject(value)) {
    const copy: Document = {}
    for (const key of Object.keys(value)) defineField(copy, key, cloneValue(value[key]))
    return copy as T
  }
  const object: object = value
  if (bsonType(object) === 'Binary') {
    const binary = object as { buffer: Uint8Array; sub_type: number }
    const Ctor = object.constructor as new (buffer: Uint8Array, subType: number) => T
    return new Ctor(Uint8Array.from(binary.buffer), binary.sub_type)
  }
  return value
}

/**
 * Sets a field as an own property. A BSON document may hold a field named `__proto__`;
 * plain assignment would change the object's prototype instead.
 */
export function defineField(target: Document, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else {
    target[key] = value
  }
}

export function cloneDocument(document: Document): Document {
  return cloneValue(document)
}

/**
 * A string that is equal for two values exactly when MongoDB treats them as the same index
 * key: numbers compare by value whatever their BSON type, embedded documents by field order.
 * `foldCase` implements a case-insensitive collation (strength 1 or 2) for strings.
 */
export function valueKey(value: unknown, foldCase = false): string {
  if (value === undefined || value === null) return 'null'
  switch (typeof value) {
    case 'number':
      return `n:${String(value)}`
    case 'bigint':
      return `n:${value.toString()}`
    case 'string':
      return `s:${JSON.stringify(foldCase ? value.normalize('NFC').toLowerCase() : value)}`
    case 'boolean':
      return `b:${String(value)}`
    case 'object':
      break
    default:
      return `?:${typeof value}`
  }
  if (Array.isArray(value)) return `[${value.map((item) => valueKey(item, foldCase)).join(',')}]`
  if (value instanceof Date) return `d:${value.getTime()}`
  if (value instanceof RegExp) return `r:${value.source}/${value.flags}`
  if (isPlainObject(value)) {
    const fields = Object.entries(value).map(
      ([key, item]) => `${JSON.stringify(key)}:${valueKey(item, foldCase)}`,
    )
    return `{${fields.join(',')}}`
  }
  const type = bsonType(value)
  switch (type) {
    case 'ObjectId':
      return `o:${(value as { toHexString(): string }).toHexString()}`
    case 'Long':
    case 'Int32':
    case 'Double':
    case 'Decimal128':
      return `n:${(value as { toString(): string }).toString()}`
    case 'Binary':
    case 'UUID': {
      const binary = value as { buffer: Uint8Array; sub_type: number }
      return `x:${binary.sub_type}:${Buffer.from(binary.buffer).toString('hex')}`
    }
    default:
      // Other BSON types (Timestamp, MinKey, Code...) serialise to canonical extended JSON.
      return `${type ?? 'object'}:${JSON.stringify(value)}`
  }
}

/**
 * `valueKey(a, foldCase) === valueKey(b, foldCase)`, without building either string: arrays
 * and documents are compared part by part, and parts two versions of a document share
 * (the same object) are equal without being looked at.
 */
export function sameValueKey(a: unknown, b: unknown, foldCase = false): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) {
      // valueKey renders a hole as nothing, unlike an undefined element.
      if (i in a !== i in b || !sameValueKey(a[i], b[i], foldCase)) return false
    }
    return true
  }
  const aDocument = isPlainObject(a)
  const bDocument = isPlainObject(b)
  if (aDocument && bDocument) {
    const aKeys = Object.keys(a)
    const bKeys = Object.keys(b)
    if (aKeys.length !== bKeys.length) return false
    for (let i = 0; i < aKeys.length; i++) {
      const key = aKeys[i] as string
      if (key !== bKeys[i] || !sameValueKey(a[key], b[key], foldCase)) return false
    }
    return true
  }
  if (aDocument || bDocument) return false
  return valueKey(a, foldCase) === valueKey(b, foldCase)
}

/** Renders a value the way mongod prints it in an E11000 message. */
export function renderValue(value: unknown): string {
  if (value === undefined || value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value)
  }
  if (Array.isArray(value)) return `[ ${value.map(renderValue).join(', ')} ]`
  if (value instanceof Date) return `new Date(${value.getTime()})`
  if (isPlainObject(value)) return renderDocument(value)
  if (typeof value === 'object' && bsonType(value) === 'ObjectId') {
    return `ObjectId('${(value as { toHexString(): string }).toHexString()}')`
  }
  return JSON.stringify(value)
}

export function renderDocument(document: Document): string {
  const fields = Object.entries(document).map(([key, item]) => `${key}: ${renderValue(item)}`)
  return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`
}

/**
 * The values an index or distinct sees at a dotted path: arrays along the way are expanded
 * (MongoDB's multikey rule), and a missing field yields no values.
 */
export function valuesAtPath(value: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return Array.isArray(value) ? value : [value]
  if (Array.isArray(value)) {
    const [head] = path
    // A numeric component may address an array position directly.
    if (head !== undefined && /^\d+$/.test(head) && Number(head) < value.length) {
      return valuesAtPath(value[Number(head)], path.slice(1))
    }
    return value.flatMap((item: unknown) => (isPlainObject(item) ? valuesAtPath(item, path) : []))
  }
  if (!isPlainObject(value)) return []
  const [head, ...rest] = path
  if (head === undefined || !Object.hasOwn(value, head)) return []
  return valuesAtPath(value[head], rest)
}

const UNSAFE_PATH_PARTS = new Set(['__proto__', 'constructor', 'prototype'])

/** Sets a dotted path, creating embedded documents on the way. */
export function setPath(document: Document, path: string, value: unknown): void {
  const parts = path.split('.')
  // Walking into an object's prototype would change objects far beyond this document.
  if (parts.some((part) => UNSAFE_PATH_PARTS.has(part))) {
    throw new CommandError('BadValue', `invalid field path: '${path}'`)
  }
  let target = document
  for (const part of parts.slice(0, -1)) {
    const next = target[part]
    if (!isPlainObject(next)) target[part] = {}
    target = target[part] as Document
  }
  target[parts[parts.length - 1] as string] = value
}

/** MongoDB keeps `_id` as the first field of every stored document. */
export function withIdFirst(document: Document): Document {
  if (!('_id' in document)) return document
  // The first own key, without listing them all.
  for (const key in document) {
    if (key === '_id') return document
    break
  }
  return { _id: document._id, ...document }
}
