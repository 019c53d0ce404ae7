import { client } from './http.js'

/** The subset of JSON Schema that the services' route schemas use. */
export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  minLength?: number
  maxLength?: number
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
}

export interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie'
  name: string
  required?: boolean
  schema: JsonSchema
}

export interface Operation {
  method: string
  /** As documented: `/v1/users/{id}`. */
  path: string
  bearer: boolean
  parameters: Parameter[]
  body: JsonSchema | undefined
  /** Documented statuses and their JSON schema. */
  responses: Record<string, JsonSchema | undefined>
}

interface Document {
  paths: Record<
    string,
    Record<
      string,
      {
        security?: Record<string, unknown>[]
        parameters?: Parameter[]
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
        responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>
      }
    >
  >
}

/** Every operation a service documents in its `/openapi.json`. */
export async function operationsOf(baseUrl: string): Promise<Operation[]> {
  const res = await client(baseUrl).get('/openapi.json')
  if (res.status !== 200) throw new Error(`no OpenAPI document: ${res.status}`)
  const doc = res.json<Document>()
  const operations: Operation[] = []
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        // A route registered as a plugin prefix + '/' is documented with the trailing slash.
        path: path.replace(/(.)\/$/, '$1'),
        bearer: (op.security ?? []).some((s) => 'bearer' in s),
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
        responses: Object.fromEntries(
          Object.entries(op.responses ?? {}).map(([status, r]) => [
            status,
            r.content?.['application/json']?.schema,
          ]),
        ),
      })
    }
  }
  return operations
}

/** The operation's path with its parameters filled in. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_match, name: string) =>
    encodeURIComponent(values[name] ?? 'x'),
  )
}
