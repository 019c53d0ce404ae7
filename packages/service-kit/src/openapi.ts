import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { TSchema } from 'typebox'
import { problemCodes, type ProblemCode } from './problem-codes.js'
import { ProblemSchema } from './problem-schema.js'

export interface OpenApiInfo {
  title: string
  version: string
  description?: string
  /**
   * The bearer security scheme named `bearer` that routes declare: users' access tokens (JWTs)
   * or the service credential that callers inside the cluster present.
   */
  bearer?: 'access-token' | 'service-credential'
  /** Only callers inside the cluster reach this service. */
  internal?: boolean
  /** The tags routes use, with what each groups. */
  tags?: { name: string; description: string }[]
  /**
   * Shapes with a name (`User`, `Session`, …): published under `components.schemas`, and every
   * copy of one inside an operation becomes a `$ref` to it.
   */
  schemas?: Record<string, TSchema>
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Key order does not make two schemas different. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  )
}

const asJson = (schema: unknown): Json => JSON.parse(JSON.stringify(schema)) as Json

/** A schema as @fastify/swagger writes it into the document (`const` becomes `enum`). */
function asDocumented(node: Json): Json {
  if (Array.isArray(node)) return node.map(asDocumented)
  if (!isObject(node)) return node
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === 'const') out.enum = [value]
    else out[key] = asDocumented(value)
  }
  return out
}

/**
 * Key under which a schema carries keywords for the document only: limits that a later rule
 * enforces with its own reason (e.g. the password policy's configurable minimum), which
 * request validation must not pre-empt with a schema error.
 */
export const documentedOnly = 'x-documented'

/** Merges each schema's document-only keywords into it, for the document. */
function applyDocumentedOnly(node: Json): Json {
  if (Array.isArray(node)) return node.map(applyDocumentedOnly)
  if (!isObject(node)) return node
  const out: JsonObject = {}
  for (const [key, value] of Object.entries(node)) {
    if (key !== documentedOnly) out[key] = applyDocumentedOnly(value)
  }
  const extra = node[documentedOnly]
  return isObject(extra) ? { ...out, ...extra } : out
}

/** Replaces every subschema equal to a named one with a `$ref` to it (the root excepted). */
function refNamed(node: Json, named: Map<string, string>, isRoot = true): Json {
  if (!isRoot && isObject(node)) {
    const name = named.get(canonical(node))
    if (name) return { $ref: `#/components/schemas/${name}` }
  }
  if (Array.isArray(node)) return node.map((item) => refNamed(item, named, false))
  if (!isObject(node)) return node
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, refNamed(value, named, false)]),
  )
}

const rateLimitHeaders = {
  'X-RateLimit-Limit': 'Requests allowed in the current window for this client.',
  'X-RateLimit-Remaining': 'Requests left in the current window.',
  'X-RateLimit-Reset': 'Seconds until the window resets.',
}
const integerHeader = (description: string) => ({
  description,
  schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 * 365 },
})

function problemExample(code: ProblemCode): JsonObject {
  const { status, title } = problemCodes[code]
  const example: JsonObject = {
    type: `urn:users-auth:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail: title,
    code,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  }
  if (code === 'VALIDATION_FAILED') example.errors = [{ path: '/email', message: 'is required' }]
  return example
}

/**
 * Every error answer as the renderer sends it: `application/problem+json` with the `Problem`
 * schema, an example per code the route answers, `Retry-After` where the status carries it.
 * 500 and 503 can happen on any route (an internal fault, a dependency down, load shed).
 */
function describeOperation(operation: JsonObject): void {
  const responses = isObject(operation.responses) ? operation.responses : {}
  for (const status of ['500', '503']) {
    responses[status] ??= { description: 'problem', content: { 'application/json': {} } }
  }
  const rateLimited = '429' in responses
  for (const [status, response] of Object.entries(responses)) {
    if (!isObject(response)) continue
    const code = Number(status)
    if (code < 400 && response.description === 'Default Response') {
      response.description = code === 204 ? 'Done; no content' : 'Success'
    }
    if (code >= 400) {
      const schema = isObject(response.content)
        ? (response.content['application/json'] as JsonObject | undefined)?.schema
        : undefined
      const declared = isObject(schema) ? schema['x-problem-codes'] : undefined
      const codes = (
        Array.isArray(declared)
          ? declared
          : Object.keys(problemCodes).filter((c) => problemCodes[c as ProblemCode].status === code)
      ) as ProblemCode[]
      response.description = codes.map((c) => problemCodes[c].title).join('; ')
      response.content = {
        'application/problem+json': {
          schema: { $ref: '#/components/schemas/Problem' },
          examples: Object.fromEntries(codes.map((c) => [c, { value: problemExample(c) }])),
        },
      }
      if (code === 429 || code === 503) {
        response.headers = {
          'Retry-After': integerHeader('Seconds to wait before trying again.'),
        }
      }
    }
    if (rateLimited && code !== 503 && code !== 500) {
      response.headers = {
        ...(isObject(response.headers) ? response.headers : {}),
        ...Object.fromEntries(
          Object.entries(rateLimitHeaders).map(([name, description]) => [
            name,
            integerHeader(description),
          ]),
        ),
      }
    }
  }
  operation.responses = responses
}

const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])

function finishDocument(document: JsonObject, info: OpenApiInfo): JsonObject {
  const named = new Map<string, string>()
  const components: JsonObject = {}
  for (const [name, schema] of Object.entries({ ...info.schemas, Problem: ProblemSchema })) {
    const json = asDocumented(asJson(schema))
    named.set(canonical(json), name)
    components[name] = json
  }
  const documented = applyDocumentedOnly(isObject(document.paths) ? document.paths : {})
  const paths = isObject(documented) ? documented : {}
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue
    for (const [method, operation] of Object.entries(item)) {
      if (methods.has(method) && isObject(operation)) describeOperation(operation)
    }
  }
  const existing = isObject(document.components) ? document.components : {}
  return {
    ...document,
    servers: [
      {
        url: '/',
        description: 'this deployment of the service (local, staging or production)',
        'x-internal': info.internal ?? false,
      },
    ],
    tags: info.tags ?? [],
    paths: refNamed(paths, named),
    components: {
      ...existing,
      schemas: Object.fromEntries(
        Object.entries(components).map(([name, schema]) => [name, refNamed(schema, named)]),
      ),
    },
  }
}

const bearerSchemes = {
  'access-token': {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An access token from signup, login or refresh: a JWT (RFC 7519) signed with EdDSA or ' +
      'ES256 and verified as RFC8725 asks (pinned algorithms, typ at+jwt, kid from ' +
      '/.well-known/jwks.json, iss, aud, exp), then checked against its live session.',
  },
  'service-credential': {
    type: 'http',
    scheme: 'bearer',
    description:
      'The service credential (INTERNAL_API_TOKEN) that callers inside the cluster present.',
  },
} as const

/** OpenAPI 3 generated from the route schemas: `/openapi.json` and Swagger UI at `/docs`. */
export async function registerOpenApi(app: FastifyInstance, info: OpenApiInfo): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version, description: info.description ?? '' },
      components: info.bearer ? { securitySchemes: { bearer: bearerSchemes[info.bearer] } } : {},
    },
    transformObject: (documents) =>
      'openapiObject' in documents
        ? (finishDocument(asJson(documents.openapiObject) as JsonObject, info) as never)
        : documents.swaggerObject,
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
}
