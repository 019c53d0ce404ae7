import type { FastifySchemaCompiler } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'

// Keywords whose cost grows with the value beyond a length check.
const costlyKeywords = new Set(['pattern', 'format'])
// Keywords whose values are data, not schemas: copied as they are.
const dataKeywords = new Set(['const', 'enum', 'default', 'examples'])

/** The schema without `pattern` and `format`: the cheap rules only. */
function withoutCostlyKeywords(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutCostlyKeywords)
  if (typeof schema !== 'object' || schema === null) return schema
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (costlyKeywords.has(key) && typeof value === 'string') continue
    copy[key] = dataKeywords.has(key) ? value : withoutCostlyKeywords(value)
  }
  return copy
}

/**
 * An unknown field is reported twice: as a `false` sub-schema at its own path, then as the
 * object's `additionalProperties` failure that names it; the renderer reads the second.
 */
function firstReportable<E extends { message: string }>(errors: E[]): E | undefined {
  return errors.find((e) => e.message !== 'schema is false') ?? errors[0]
}

/**
 * TypeBox validation that answers with the first error only. A valid value costs one compiled
 * check (which stops at the first failing rule). TypeBox's error report evaluates every rule,
 * so an invalid value is first judged by the cheap rules alone (types, lengths, required and
 * unknown fields); patterns and formats are reported only for values that passed those, i.e.
 * strings already within their `maxLength`. No input then costs more than its length.
 */
export const firstErrorValidatorCompiler: FastifySchemaCompiler<TSchema> = ({
  schema,
  httpPart,
}) => {
  const full = Compile(schema)
  let cheap: ReturnType<typeof Compile> | undefined
  return (value: unknown) => {
    // Query, params and headers arrive as strings and are converted; bodies are not.
    const converted = httpPart === 'body' ? value : Value.Convert(schema, value)
    if (full.Check(converted)) return { value: converted }
    cheap ??= Compile(withoutCostlyKeywords(schema) as TSchema)
    const first =
      firstReportable(cheap.Errors(converted)) ?? firstReportable(full.Errors(converted))
    return { error: first ? [first] : [] }
  }
}
