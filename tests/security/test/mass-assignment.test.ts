import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openDb, usersApi, type Account } from '../src/api.js'
import { expectProblem } from '../src/http.js'
import { newEmail, newPassword } from '../src/pair.js'

// Mass assignment and injection (ASVS V5, OWASP API3/API8): request bodies accept exactly the
// documented fields with the documented types. Anything else is a 400 VALIDATION_FAILED and
// leaves no trace in the database, which is checked directly.

const pair = inject('pair')
const api = usersApi(pair)
let db: Db
let closeDb: () => Promise<void>
let victim: Account

beforeAll(async () => {
  ;({ db, close: closeDb } = await openDb(pair))
  victim = await api.signup('ma-victim')
})
afterAll(async () => {
  await closeDb()
})

const storedKeys = [
  '_id',
  'email',
  'name',
  'passwordHash',
  'hasPassword',
  'emailVerified',
  'mfaEnabled',
  'disabled',
  'roles',
  'passwordChangedAt',
  'credentialVersion',
  'createdAt',
  'updatedAt',
]

async function storedUser(email: string) {
  return db.collection('users').findOne({ email })
}

async function expectRejected(path: string, body: unknown, token?: string, method = 'POST') {
  const res = await api.send({
    method,
    path,
    body,
    ...(token === undefined ? {} : { token }),
  })
  const problem = expectProblem(res, 400, 'VALIDATION_FAILED')
  expect(res.text).not.toMatch(/argon2|stack|mongo/i)
  return problem
}

describe('unknown fields', () => {
  it('signup with privileged or internal fields is refused and stores nothing', async () => {
    const extras: Record<string, unknown>[] = [
      { role: 'admin' },
      { roles: ['admin'] },
      { isAdmin: true },
      { _id: '000000000000000000000001' },
      { id: '000000000000000000000001' },
      { passwordHash: '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA' },
      { createdAt: '2000-01-01T00:00:00Z' },
      { emailVerified: true },
      { passwordChangedAt: '2100-01-01T00:00:00Z' },
    ]
    for (const extra of extras) {
      const email = newEmail('ma-signup')
      const problem = await expectRejected('/v1/auth/signup', {
        email,
        password: newPassword(),
        ...extra,
      })
      const [field] = Object.keys(extra)
      expect(problem.errors?.map((e) => e.path)).toContain(`/${field ?? ''}`)
      expect(await storedUser(email)).toBeNull()
    }
  })

  it('PATCH /me with anything but name is refused and changes nothing', async () => {
    const before = await storedUser(victim.email)
    for (const body of [
      { name: 'x', roles: ['admin'] },
      { name: 'x', email: 'takeover@example.com' },
      { name: 'x', passwordHash: 'x' },
      { name: 'x', _id: '000000000000000000000001' },
      { roles: ['admin'] },
      { 'roles.0': 'admin' },
      { $set: { roles: ['admin'] } },
      { name: 'x', updatedAt: '2000-01-01T00:00:00Z' },
    ]) {
      await expectRejected('/v1/users/me', body, victim.session.accessToken, 'PATCH')
    }
    expect(await storedUser(victim.email)).toEqual(before)
  })

  it('login, refresh and password change refuse extra fields too', async () => {
    await expectRejected('/v1/auth/login', {
      email: victim.email,
      password: victim.password,
      roles: ['admin'],
    })
    await expectRejected('/v1/auth/refresh', {
      refreshToken: victim.session.refreshToken,
      sid: 'x',
    })
    await expectRejected(
      '/v1/users/me/password',
      { currentPassword: victim.password, newPassword: newPassword(), roles: ['admin'] },
      victim.session.accessToken,
    )
    await expectRejected(
      '/v1/users/me',
      { password: victim.password, force: true },
      victim.session.accessToken,
      'DELETE',
    )
    expect((await api.get('/v1/users/me', victim.session.accessToken)).status).toBe(200)
  })
})

describe('operator injection (NoSQL)', () => {
  const operators: unknown[] = [
    { $ne: null },
    { $ne: '' },
    { $gt: '' },
    { $regex: '.*' },
    { $where: 'sleep(1000) || true' },
    { $exists: true },
    { $in: ['a@example.com'] },
    { $expr: { $eq: [1, 1] } },
  ]

  it('login with operator objects in email or password is a 400, never a session', async () => {
    for (const op of operators) {
      await expectRejected('/v1/auth/login', { email: op, password: victim.password })
      await expectRejected('/v1/auth/login', { email: victim.email, password: op })
      await expectRejected('/v1/auth/login', { email: op, password: op })
    }
  })

  it('signup and profile fields refuse operator objects and store nothing', async () => {
    const count = await db.collection('users').countDocuments()
    for (const op of operators) {
      await expectRejected('/v1/auth/signup', { email: op, password: newPassword() })
      await expectRejected('/v1/auth/signup', { email: newEmail('op'), password: op })
      await expectRejected('/v1/auth/signup', {
        email: newEmail('op'),
        password: newPassword(),
        name: op,
      })
      await expectRejected('/v1/users/me', { name: op }, victim.session.accessToken, 'PATCH')
    }
    expect(await db.collection('users').countDocuments()).toBe(count)
  })

  it('strings that look like operators are stored as plain data', async () => {
    const name = '{"$ne": null} $where: sleep(1) \' || 1==1 -- <script>'
    const res = await api.patch('/v1/users/me', { name }, victim.session.accessToken)
    expect(res.status, res.text).toBe(200)
    expect(res.json<{ name: string }>().name).toBe(name)
    expect((await storedUser(victim.email))?.name).toBe(name)
  })

  it('query parameters refuse operator syntax and repeated keys', async () => {
    const admin = await api.adminToken()
    for (const query of [
      'cursor[$gt]=000000000000000000000000',
      'cursor[$ne]=x',
      'limit[$gt]=0',
      'limit=1&limit=2',
      'cursor=000000000000000000000000&cursor=000000000000000000000001',
      'limit=-1',
      'cursor=%00',
      'role=admin',
    ]) {
      const res = await api.get(`/v1/users?${query}`, admin)
      expect(res.status, `${query}: ${res.text.slice(0, 200)}`).toBe(400)
      expectProblem(res, 400, 'VALIDATION_FAILED')
    }
  })
})

describe('prototype pollution', () => {
  const payloads = [
    '{"email":"%s","password":"%p","__proto__":{"roles":["admin"]}}',
    '{"email":"%s","password":"%p","constructor":{"prototype":{"roles":["admin"]}}}',
    '{"email":"%s","password":"%p","name":{"__proto__":{"isAdmin":true}}}',
    '{"__proto__":{"roles":["admin"]},"email":"%s","password":"%p"}',
    '{"email":"%s","password":"%p","__proto__":null}',
    '{"email":"%s","password":"%p","prototype":{"roles":["admin"]}}',
  ]

  it('bodies with __proto__ / constructor.prototype are refused and store nothing', async () => {
    for (const template of payloads) {
      const email = newEmail('proto')
      const raw = template.replace('%s', email).replace('%p', newPassword())
      const res = await api.send({
        method: 'POST',
        path: '/v1/auth/signup',
        headers: { 'content-type': 'application/json' },
        body: raw,
      })
      expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(await storedUser(email)).toBeNull()
    }
  })

  it('leaves no trace: accounts created afterwards are plain users with plain fields', async () => {
    const after = await api.signup('proto-after')
    expect(after.session.user.roles).toEqual(['user'])
    const stored = await storedUser(after.email)
    expect(Object.keys(stored ?? {}).sort()).toEqual([...storedKeys].sort())
    expectProblem(await api.get('/v1/users', after.session.accessToken), 403, 'FORBIDDEN')
  })
})

describe('type confusion', () => {
  it('refuses wrong JSON types for every field', async () => {
    const wrong: unknown[] = [null, true, 0, 1e308, -1, [], ['a'], {}, [{ a: 1 }]]
    for (const value of wrong) {
      await expectRejected('/v1/auth/signup', { email: value, password: newPassword() })
      await expectRejected('/v1/auth/signup', { email: newEmail('tc'), password: value })
      await expectRejected('/v1/auth/login', { email: value, password: 'x' })
      await expectRejected('/v1/auth/refresh', { refreshToken: value })
      await expectRejected('/v1/users/me', { name: value }, victim.session.accessToken, 'PATCH')
    }
  })

  it('refuses bodies that are not an object', async () => {
    for (const raw of ['null', '[]', '"x"', '42', 'true', '[{"email":"a@b.co","password":"x"}]']) {
      const res = await api.send({
        method: 'POST',
        path: '/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        body: raw,
      })
      expectProblem(res, 400, 'VALIDATION_FAILED')
    }
  })

  it('refuses malformed and hostile JSON without an error', async () => {
    for (const raw of [
      '{',
      '{"email":',
      "{'email':'a@b.co'}",
      '{"email":"a@b.co",}',
      '{"email":"a@b.co" "password":"x"}',
      '\u0000',
      '{"email":"a@b.co","password":"x"}garbage',
      `${'['.repeat(8000)}${']'.repeat(8000)}`,
      `{"a":${'{"a":'.repeat(2500)}1${'}'.repeat(2500)}}`,
      '{"email":"a@b.co","password":1e999999}',
    ]) {
      const res = await api.send({
        method: 'POST',
        path: '/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        body: raw,
      })
      expect(res.status, `${raw.slice(0, 40)}: ${res.text}`).toBe(400)
      expectProblem(res, 400, 'VALIDATION_FAILED')
    }
  })

  it('refuses bodies that are not JSON (415) and oversized bodies (413)', async () => {
    const login = JSON.stringify({ email: victim.email, password: victim.password })
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/jsonx',
      'json',
    ]) {
      const res = await api.send({
        method: 'POST',
        path: '/v1/auth/login',
        headers: { 'content-type': contentType },
        body: login,
      })
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
    }
    const big = await api.post('/v1/auth/signup', {
      email: newEmail('big'),
      password: newPassword(),
      name: 'x'.repeat(17 * 1024),
    })
    expectProblem(big, 413, 'PAYLOAD_TOO_LARGE')
  })
})

/** Every key, at any depth, that looks like a query operator (`$ne`, `$gt`…). */
function operatorKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(operatorKeys)
  if (value === null || typeof value !== 'object' || value.constructor.name !== 'Object') return []
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(key.startsWith('$') ? [key] : []),
    ...operatorKeys(inner),
  ])
}

describe('stored data', () => {
  it('holds only the model’s fields, argon2id hashes, no operator keys, and no admin but the one created', async () => {
    const users = await db.collection('users').find({}).toArray()
    expect(users.length).toBeGreaterThan(0)
    for (const user of users) {
      for (const key of Object.keys(user)) expect(storedKeys, key).toContain(key)
      expect(operatorKeys(user), JSON.stringify(user)).toEqual([])
      // Self-describing argon2id PHC strings, never anything reversible (ASVS 2.4.1).
      expect(String(user.passwordHash)).toMatch(
        /^\$argon2id\$v=19\$[mtp]=\d+,[mtp]=\d+,[mtp]=\d+\$/,
      )
    }
    const admins = users.filter((u) => (u.roles as string[]).includes('admin'))
    expect(admins.map((u) => String(u.email))).toEqual([pair.admin.email])
  })
})
