import { readFileSync } from 'node:fs'
import { problemCodes, type ProblemCode } from '@users-auth/service-kit'
import { describe, expect, inject, it } from 'vitest'
import { client } from '../src/http.js'

// What Spectral cannot check in the OpenAPI documents: names a client generator can use, error
// examples that agree with the catalogue, and examples that work when sent as they are.

const pair = inject('pair')
const users = client(pair.usersUrl)

interface Operation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> }
  responses: Record<
    string,
    { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }
  >
}
interface Document {
  tags: { name: string }[]
  paths: Record<string, Record<string, Operation>>
}

const committed = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../../openapi/${name}.json`, import.meta.url), 'utf8'),
  ) as Document

const documents = { 'users-api': committed('users-api'), 'auth-api': committed('auth-api') }

function operationsOf(document: Document): [string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]): [string, Operation] => [
      `${method.toUpperCase()} ${path}`,
      op,
    ]),
  )
}

describe.each(Object.entries(documents))('the OpenAPI document of %s', (_name, document) => {
  const operations = operationsOf(document)

  it('gives every operation a unique operationId, a declared tag, a summary and a description', () => {
    expect(operations.length).toBeGreaterThan(0)
    const declared = new Set(document.tags.map((tag) => tag.name))
    const ids = operations.map(([, op]) => op.operationId)
    expect(new Set(ids).size, 'operationIds are unique').toBe(ids.length)
    for (const [name, op] of operations) {
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/)
      expect(op.tags?.length, name).toBe(1)
      expect(declared.has(op.tags?.[0] ?? ''), `${name}: tag ${String(op.tags)}`).toBe(true)
      expect(op.summary, name).toBeTruthy()
      expect(op.description, name).toBeTruthy()
    }
  })

  it('gives every request body an example', () => {
    for (const [name, op] of operations) {
      if (!op.requestBody) continue
      const media = op.requestBody.content['application/json']
      expect(media?.example ?? media?.examples, name).toBeDefined()
    }
  })

  it('gives every error response examples whose status and code match it per the catalogue', () => {
    for (const [name, op] of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue
        const examples = response.content?.['application/problem+json']?.examples ?? {}
        expect(Object.keys(examples).length, `${name} ${status}`).toBeGreaterThan(0)
        for (const [key, { value }] of Object.entries(examples)) {
          const example = value as { status: number; code: ProblemCode }
          expect(example.code, `${name} ${status}`).toBe(key)
          expect(problemCodes[example.code].status, `${name} ${status} ${key}`).toBe(Number(status))
          expect(example.status, `${name} ${status} ${key}`).toBe(Number(status))
        }
      }
    }
  })

  it('declares 401 on every operation that needs a bearer token', () => {
    for (const [name, op] of operations) {
      const secured = (op as { security?: unknown[] }).security?.length ?? 0
      if (secured > 0) expect(op.responses['401'], name).toBeDefined()
    }
  })
})

describe('the examples of users-api’s document, sent unchanged', () => {
  it('sign up (201), then log in (200)', async () => {
    // The document the running service serves, as Swagger UI reads it.
    const served = (await users.get('/openapi.json')).json<Document>()
    const example = (path: string) =>
      served.paths[path]?.post?.requestBody?.content['application/json']?.example
    const signup = await users.post('/v1/auth/signup', example('/v1/auth/signup'))
    expect(signup.status, signup.text).toBe(201)
    const login = await users.post('/v1/auth/login', example('/v1/auth/login'))
    expect(login.status, login.text).toBe(200)
    expect(login.json<{ user: { id: string } }>().user.id).toBe(
      signup.json<{ user: { id: string } }>().user.id,
    )
  })

  it('a new password under the documented minimum gets the policy’s reason, not a schema error', async () => {
    const served = (await users.get('/openapi.json')).json<Document>()
    const body = served.paths['/v1/auth/signup']?.post?.requestBody?.content['application/json']
    const password = (
      body as { schema: { properties: { password: { minLength: number } } } } | undefined
    )?.schema.properties.password
    expect(password?.minLength).toBe(15)
    const res = await users.post('/v1/auth/signup', {
      email: `short-${String(Date.now())}@example.com`,
      password: 'x7#Kq!2vZp',
    })
    expect(res.status).toBe(400)
    const problem = res.json<{ code: string; errors: { path: string; message: string }[] }>()
    expect(problem.code).toBe('VALIDATION_FAILED')
    expect(problem.errors).toEqual([
      { path: '/password', message: 'must be at least 15 characters' },
    ])
  })
})
