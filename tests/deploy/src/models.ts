import { KINDS, modelModule } from './kinds.js'
import { unknownFields } from './strict-keys.js'

interface Validatable {
  validate(): void
}

function isModelClass(value: unknown): value is new (data: unknown) => Validatable {
  return typeof value === 'function'
}

/**
 * Schema errors of one object: kubernetes-models validate() (types, required fields, enums)
 * plus unknown fields. [] when valid.
 */
export async function validateObject(object: {
  apiVersion: string
  kind: string
}): Promise<string[]> {
  const known = KINDS.some(([v, k]) => v === object.apiVersion && k === object.kind)
  if (!known) return [`${object.apiVersion} ${object.kind}: not a kind this project expects`]
  const mod = (await import(modelModule(object.apiVersion, object.kind))) as Record<string, unknown>
  const Model = mod[object.kind]
  if (!isModelClass(Model)) return [`kubernetes-models has no ${object.kind}`]
  const errors: string[] = []
  try {
    new Model(object).validate()
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err))
  }
  errors.push(...unknownFields(object, KINDS))
  return errors
}
