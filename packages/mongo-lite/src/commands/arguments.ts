import { CommandError } from '../errors.js'
import { isPlainObject, type Document } from '../documents.js'
import type { CommandContext } from './context.js'

// Typed access to command fields, failing with mongod's codes when a field has a wrong type.

/** The collection a command names as its first field's value. */
export function collectionName(context: CommandContext): string {
  const value = context.command[context.name]
  if (typeof value !== 'string' || value.length === 0) {
    throw new CommandError(
      'InvalidNamespace',
      `collection name has invalid type ${typeof value} for command ${context.name}`,
    )
  }
  return value
}

function mismatch(field: string, expected: string): CommandError {
  return new CommandError(
    'TypeMismatch',
    `BSON field '${field}' is the wrong type, expected ${expected}`,
  )
}

export function optionalDocument(command: Document, field: string): Document | undefined {
  const value = command[field]
  if (value === undefined || value === null) return undefined
  if (!isPlainObject(value)) throw mismatch(field, 'object')
  return value
}

export function optionalNumber(command: Document, field: string): number | undefined {
  const value = command[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number') throw mismatch(field, 'number')
  return value
}

export function optionalBoolean(command: Document, field: string): boolean | undefined {
  const value = command[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') throw mismatch(field, 'boolean')
  return value
}

export function documentArray(command: Document, field: string): Document[] {
  const value = command[field]
  if (!Array.isArray(value) || !value.every(isPlainObject))
    throw mismatch(field, 'array of objects')
  return value
}

export function optionalDocumentArray(command: Document, field: string): Document[] | undefined {
  return command[field] === undefined ? undefined : documentArray(command, field)
}
