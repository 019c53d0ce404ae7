import fc from 'fast-check'
import type { JsonSchema } from './openapi.js'

// Generators driven by the services' own JSON Schemas (from /openapi.json): values that match
// a schema, values that break it in the ways attackers try, and a structural check of answers
// against the documented response schema.

const typesOf = (schema: JsonSchema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type]

/** Strings of every kind: ASCII, any code point (lone surrogates included), control chars. */
function anyString(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.string({ unit: 'binary', minLength, maxLength }),
    fc.string({
      unit: fc.constantFrom('\u0000', '\n', '\u202e', '$', '.', '"', '\\', 'a'),
      minLength,
      maxLength,
    }),
  )
}

/** A passphrase that a strict password policy accepts, for the fields that want one. */
const passphrase = fc
  .array(
    fc.constantFrom('amber', 'violet', 'quartz', 'ferry', 'lantern', 'mosaic', 'tundra', 'pivot'),
    {
      minLength: 4,
      maxLength: 6,
    },
  )
  .chain((words) => fc.nat(99_999).map((n) => `${words.join(' ')} ${String(n)}`))

/** Values that satisfy `schema` (as far as the subset used by the services goes). */
export function validValue(schema: JsonSchema, name = ''): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const alternatives = schema.anyOf ?? schema.oneOf
  if (alternatives) return fc.oneof(...alternatives.map((s) => validValue(s, name)))
  const [type] = typesOf(schema)
  switch (type) {
    case 'object': {
      const properties = schema.properties ?? {}
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [key, sub] of Object.entries(properties)) record[key] = validValue(sub, key)
      return fc.record(record, { requiredKeys: schema.required ?? [] })
    }
    case 'array':
      return fc.array(validValue(schema.items ?? {}, name), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      })
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 })
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'string': {
      const min = schema.minLength ?? 0
      const max = Math.min(schema.maxLength ?? 64, 200)
      const fits = (s: string) => s.length >= min && s.length <= (schema.maxLength ?? Infinity)
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits)
      if (/password/i.test(name)) return fc.oneof(passphrase, anyString(min, max))
      return anyString(min, max)
    }
    default:
      return fc.jsonValue()
  }
}

const operatorObjects: unknown[] = [
  { $ne: null },
  { $gt: '' },
  { $regex: '.*' },
  { $where: 'true' },
  { $exists: true },
  { $in: [] },
  { $expr: { $eq: [1, 1] } },
]

/** Values attackers put where a scalar is expected. */
const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...operatorObjects),
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, [], {}, '', ' ', '\u0000'),
  fc.jsonValue({ maxDepth: 3 }),
  anyString(0, 40),
  fc.string({ minLength: 1025, maxLength: 1100 }),
)

const extraFields = [
  'role',
  'roles',
  '_id',
  'id',
  'passwordHash',
  'isAdmin',
  '$where',
  '$set',
  'constructor',
  'prototype',
  'email.0',
]

/** Objects that break `schema`: a field too many, one missing, one of the wrong kind. */
export function brokenObject(schema: JsonSchema): fc.Arbitrary<unknown> {
  const valid = validValue(schema) as fc.Arbitrary<Record<string, unknown>>
  const keys = Object.keys(schema.properties ?? {})
  const variants: fc.Arbitrary<unknown>[] = [
    fc.tuple(valid, fc.constantFrom(...extraFields), hostileScalar).map(([object, key, value]) => ({
      ...object,
      [key]: value,
    })),
    fc.jsonValue({ maxDepth: 4 }),
    fc.dictionary(fc.string({ maxLength: 12 }), hostileScalar, { maxKeys: 4 }),
  ]
  if (keys.length > 0) {
    variants.push(
      fc.tuple(valid, fc.constantFrom(...keys), hostileScalar).map(([object, key, value]) => ({
        ...object,
        [key]: value,
      })),
      fc.tuple(valid, fc.constantFrom(...keys)).map(([object, key]) => {
        const { [key]: _dropped, ...rest } = object
        return rest
      }),
    )
  }
  return fc.oneof(...variants)
}

/** JSON text that no serializer would produce: duplicate keys, proto keys, broken syntax. */
export function hostileJsonText(schema: JsonSchema): fc.Arbitrary<string> {
  const valid = (validValue(schema) as fc.Arbitrary<Record<string, unknown>>).map((o) =>
    JSON.stringify(o),
  )
  return fc.oneof(
    valid.map((text) => text.replace(/^\{/, '{"__proto__":{"roles":["admin"]},')),
    valid.map((text) => text.replace(/^\{/, '{"constructor":{"prototype":{"roles":["admin"]}},')),
    valid.chain((text) => fc.nat(Math.max(0, text.length - 1)).map((cut) => text.slice(0, cut))),
    valid.map((text) => text.replace(/\}$/, `,${text.slice(1)}`)),
    valid.map((text) => `${text}${text}`),
    fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '{"a":',
      '\u0000',
      '[[[[[[[[[[',
      '{"a":1e999999}',
      '"\\ud800"',
    ),
    fc.string({ unit: 'binary', maxLength: 60 }),
  )
}

/** Problems with `value` against `schema`; empty when it conforms. */
export function schemaProblems(value: unknown, schema: JsonSchema | undefined, at = ''): string[] {
  if (!schema) return []
  if (schema.const !== undefined && value !== schema.const)
    return [`${at}: not ${JSON.stringify(schema.const)}`]
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: not in enum`]
  const alternatives = schema.anyOf ?? schema.oneOf
  if (alternatives) {
    return alternatives.some((s) => schemaProblems(value, s, at).length === 0)
      ? []
      : [`${at}: matches no alternative`]
  }
  const types = typesOf(schema)
  if (types.length === 0) return []
  const actual =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : Number.isInteger(value)
          ? 'integer'
          : typeof value
  const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'))
  if (!ok) return [`${at}: ${actual} is not ${types.join('|')}`]
  if (actual === 'array') {
    return (value as unknown[]).flatMap((item, i) =>
      schemaProblems(item, schema.items, `${at}/${String(i)}`),
    )
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>
    const problems: string[] = []
    for (const key of schema.required ?? []) {
      if (!(key in object)) problems.push(`${at}/${key}: missing`)
    }
    for (const [key, item] of Object.entries(object)) {
      const sub = schema.properties?.[key]
      if (sub) problems.push(...schemaProblems(item, sub, `${at}/${key}`))
      else if (schema.additionalProperties === false) problems.push(`${at}/${key}: not documented`)
    }
    return problems
  }
  return []
}
