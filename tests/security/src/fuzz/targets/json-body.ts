import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { start } from '@users-auth/mongo-lite'
import { createLogger } from '@users-auth/service-kit'
import { createAuthApi } from 'auth-api/create'
import { createUsersApi } from 'users-api/create'
import type { FuzzTarget } from '../engine.js'

// users-api's JSON body handling, end to end in one process: content-type matching, the JSON
// parser (with its prototype-poisoning checks), schema validation, the domain and the problem
// renderer, over the real auth-api and mongo-lite. An input is [route, content type, body...].
// Crashes: a 5xx, an error that is not problem+json, a polluted Object.prototype, or an
// exception escaping app.inject.

const routes = [
  { method: 'POST', url: '/v1/auth/signup', auth: false },
  { method: 'POST', url: '/v1/auth/login', auth: false },
  { method: 'POST', url: '/v1/auth/refresh', auth: false },
  { method: 'PATCH', url: '/v1/users/me', auth: true },
  { method: 'POST', url: '/v1/users/me/password', auth: true },
  { method: 'DELETE', url: '/v1/users/me', auth: true },
  {
    method: 'DELETE',
    url: '/v1/users/me/sessions/00000000-0000-0000-0000-000000000000',
    auth: true,
  },
  { method: 'POST', url: '/v1/auth/logout', auth: true },
] as const

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json, text/plain',
  'application/problem+json',
  '',
] as const

const password = 'amber violet quartz ferry lantern'

function seed(route: number, contentType: number, body: string): Buffer {
  return Buffer.concat([Buffer.from([route, contentType]), Buffer.from(body)])
}

const seeds = (): Buffer[] => [
  seed(0, 0, JSON.stringify({ email: 'seed@example.com', password, name: 'Seed' })),
  seed(1, 0, JSON.stringify({ email: 'seed@example.com', password })),
  seed(
    2,
    0,
    JSON.stringify({
      refreshToken: `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.${'A'.repeat(43)}`,
    }),
  ),
  seed(3, 1, JSON.stringify({ name: 'Renamed' })),
  seed(4, 0, JSON.stringify({ currentPassword: 'x', newPassword: password })),
  seed(5, 0, JSON.stringify({ password: 'x' })),
  seed(0, 0, '{"email":"p@example.com","password":"x","__proto__":{"roles":["admin"]}}'),
  seed(0, 0, '{"email":"p@example.com","password":"x","constructor":{"prototype":{"a":1}}}'),
  seed(1, 0, '{"email":{"$ne":null},"password":{"$gt":""}}'),
  seed(1, 0, '{"email":"a@b.co","password":"x","email":"c@d.co"}'),
  seed(3, 0, '{"name":"\\u0000\\ud800\\u202e"}'),
  seed(1, 0, '[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]'),
  seed(1, 5, 'email=a@b.co&password=x'),
  seed(2, 0, '{"refreshToken":1e999}'),
]

const dictionary = [
  '"__proto__"',
  '"constructor"',
  '"prototype"',
  '"$ne"',
  '"$gt"',
  '"$where"',
  '"$regex"',
  '"email"',
  '"password"',
  '"name"',
  '"refreshToken"',
  '"currentPassword"',
  '"newPassword"',
  '"roles"',
  '"admin"',
  '"_id"',
  'null',
  'true',
  'false',
  '1e999',
  '-0',
  '0.0',
  '\\u0000',
  '\\ud800',
  '\\"',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '""',
  '{}',
  '[]',
  '@example.com',
  ' ',
].map((token) => Buffer.from(token))

const keys = [
  'email',
  'password',
  'name',
  'refreshToken',
  'currentPassword',
  'newPassword',
  'roles',
  'role',
  '_id',
  'id',
  '__proto__',
  'constructor',
  'prototype',
  '$ne',
  '$gt',
  '$where',
  '$set',
  'passwordHash',
  '',
]
const values: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  0.5,
  '',
  ' ',
  'a@b.co',
  ' A@B.CO ',
  password,
  'x'.repeat(1025),
  '\u0000',
  '\ud800',
  [],
  {},
  [password],
  { $ne: null },
  { $gt: '' },
  { $regex: '.*' },
  { __proto__: null },
  ['user', 'admin'],
  `${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}.${'A'.repeat(43)}`,
]

/** Changes one place in a parsed JSON value: a value replaced, a key added or removed, a wrap. */
function mutateJson(value: unknown, rand: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T
  if (Array.isArray(value)) {
    const items = value as unknown[]
    if (items.length > 0 && rand() < 0.6) {
      const i = Math.floor(rand() * items.length)
      return items.map((item, j) => (j === i ? mutateJson(item, rand) : item))
    }
    return [...items, pick(values)]
  }
  if (value !== null && typeof value === 'object') {
    const object = { ...(value as Record<string, unknown>) }
    const present = Object.keys(object)
    const choice = rand()
    const key = present.length > 0 ? pick(present) : undefined
    if (key !== undefined && choice < 0.4)
      object[key] = rand() < 0.5 ? pick(values) : mutateJson(object[key], rand)
    else if (key !== undefined && choice < 0.55) Reflect.deleteProperty(object, key)
    else if (choice < 0.9)
      Object.defineProperty(object, pick(keys), {
        value: pick(values),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    else return [object]
    return object
  }
  return rand() < 0.7 ? pick(values) : { [pick(keys)]: value }
}

const problemJson = 'application/problem+json; charset=utf-8'
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join(',')

export async function jsonBodyTarget(): Promise<FuzzTarget> {
  // Nothing is logged: route-level log levels (the probes' 'warn') would override 'silent'.
  const logger = createLogger({
    level: 'silent',
    stream: new Writable({
      write: (_chunk, _encoding, done) => {
        done()
      },
    }),
  })
  const credential = randomBytes(24).toString('base64url')
  const mongo = await start({ port: 0 })
  const auth = await createAuthApi(
    {
      NODE_ENV: 'test',
      INTERNAL_API_TOKEN: credential,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
    },
    { logger },
  )
  const authUrl = await auth.app.listen({ port: 0, host: '127.0.0.1' })
  const users = await createUsersApi(
    {
      NODE_ENV: 'test',
      INTERNAL_API_TOKEN: credential,
      MONGODB_URI: `${mongo.uri}/fuzz`,
      AUTH_API_URL: authUrl,
      RATE_LIMIT_IP_MAX: '100000000',
    },
    { logger },
  )
  const app = users.app
  await app.ready()
  for (let i = 0; ; i++) {
    if ((await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200) break
    if (i > 200) throw new Error('users-api did not become ready')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const email = `fuzzer-${randomBytes(4).toString('hex')}@example.com`
  const signup = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: { email, password },
  })
  if (signup.statusCode !== 201) throw new Error(`fuzz account: ${signup.body}`)
  let token: string | undefined = signup.json<{ accessToken: string }>().accessToken
  const statuses = new Map<number, number>()

  async function bearer(): Promise<string> {
    if (!token) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email, password },
      })
      const fresh =
        res.statusCode === 200 ? res.json<{ accessToken: string }>().accessToken : 'stale'
      token = fresh
      return fresh
    }
    return token
  }

  return {
    name: 'json-body',
    seeds: seeds(),
    dictionary,
    maxLength: 2048,
    checkEvery: 200,
    covers: (url) =>
      url === '' ||
      /secure-json-parse|\/fastify\/lib\/|\/service-kit\/src\/|\/users-api\/src\/|type-provider-typebox|\/typebox\//.test(
        url,
      ),
    async run(input) {
      const route = routes[(input[0] ?? 0) % routes.length] ?? routes[0]
      const contentType = contentTypes[(input[1] ?? 0) % contentTypes.length] ?? 'application/json'
      const body = input.subarray(2)
      const res = await app.inject({
        method: route.method,
        url: route.url,
        headers: {
          ...(contentType ? { 'content-type': contentType } : {}),
          ...(route.auth ? { authorization: `Bearer ${await bearer()}` } : {}),
        },
        payload: body,
      })
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      if (res.statusCode >= 500)
        throw new Error(
          `${route.method} ${route.url} answered ${String(res.statusCode)}: ${res.body}`,
        )
      if (res.statusCode >= 400 && res.headers['content-type'] !== problemJson) {
        throw new Error(
          `${route.method} ${route.url} answered ${String(res.statusCode)} as ${String(res.headers['content-type'])}: ${res.body}`,
        )
      }
      if (route.auth && res.statusCode < 300 && route.url !== '/v1/users/me') token = undefined
      if (route.auth && res.statusCode === 401) token = undefined
      if (Object.getOwnPropertyNames(Object.prototype).sort().join(',') !== prototypeKeys) {
        throw new Error(
          `Object.prototype was polluted: ${Object.getOwnPropertyNames(Object.prototype).join(',')}`,
        )
      }
    },
    mutate(input, rand) {
      let parsed: unknown
      try {
        parsed = JSON.parse(input.subarray(2).toString('utf8'))
      } catch {
        return undefined
      }
      const head = Buffer.from([
        rand() < 0.2 ? Math.floor(rand() * routes.length) : (input[0] ?? 0),
        rand() < 0.1 ? Math.floor(rand() * contentTypes.length) : (input[1] ?? 0),
      ])
      const text = JSON.stringify(mutateJson(parsed, rand))
      return Buffer.concat([head, Buffer.from(text)])
    },
    notes: () =>
      `answers by status: ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([status, n]) => `${String(status)}×${String(n)}`)
        .join(' ')}`,
    async check() {
      const res = await app.inject({ method: 'GET', url: '/readyz' })
      if (res.statusCode !== 200) throw new Error(`users-api not ready after fuzzing: ${res.body}`)
    },
    async close() {
      await app.close()
      await auth.app.close()
      await mongo.stop()
    },
  }
}
