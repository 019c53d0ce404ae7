import { problemCodes, type ProblemCode } from '@users-auth/service-kit'
import fc from 'fast-check'
import { ObjectId, type Db, type Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { openDb, usersApi, type Account } from '../src/api.js'
import { forger } from '../src/forge.js'
import { problemContentType, type Response } from '../src/http.js'
import { fillPath, operationsOf, type Operation } from '../src/openapi.js'
import { brokenObject, hostileJsonText, schemaProblems, validValue } from '../src/schema-fuzz.js'

// Schema-driven fuzzing of users-api's public API: for every operation in its /openapi.json,
// requests generated from the documented schemas, valid and hostile, with any credential. The
// invariants: never a 5xx; every error is problem+json with the catalogue's status for its
// code; every success matches its documented response schema and carries no hash; the service
// stays healthy; and no request changes what it must not (a canary user, its sessions, the
// admin). Seeded and bounded: FUZZ_RUNS (runs per operation) and FUZZ_SEED for longer or
// different runs, e.g. `FUZZ_RUNS=5000 pnpm vitest run --project security openapi-fuzz`.

const runs = Number(process.env.FUZZ_RUNS ?? 700)
const seed = Number(process.env.FUZZ_SEED ?? 20_261_121)

const pair = inject('pair')
const api = usersApi(pair)
const forge = forger(pair.privateJwks, pair.issuer, pair.audience)
let operations: Operation[]
let db: Db
let closeDb: () => Promise<void>
let canary: Account
let adminToken: string
let snapshot: { canary: Document | null; admin: Document | null; sessions: Document[] }
const sent = new Map<string, number>()

async function takeSnapshot() {
  const users = db.collection('users')
  return {
    canary: await users.findOne({ email: canary.email }),
    // `me` as an admin route's id reaches the admin's own routes: DELETE /v1/users/me/sessions
    // (log out everywhere else) legitimately raises the admin's credential version.
    admin: await users.findOne(
      { email: pair.admin.email },
      { projection: { credentialVersion: 0, updatedAt: 0 } },
    ),
    sessions: await db
      .collection('sessions')
      .find({ userId: new ObjectId(canary.session.user.id) }, { sort: { _id: 1 } })
      .toArray(),
  }
}

beforeAll(async () => {
  operations = await operationsOf(pair.usersUrl)
  ;({ db, close: closeDb } = await openDb(pair))
  canary = await api.signup('fuzz-canary')
  await api.login(canary.email, canary.password)
  adminToken = await api.adminToken()
  snapshot = await takeSnapshot()
  expect(snapshot.sessions).toHaveLength(2)
})
afterAll(async () => {
  await closeDb()
})

type AuthKind = 'none' | 'mine' | 'admin' | 'garbage' | 'forged'

interface FuzzRequest {
  auth: AuthKind
  params: Record<string, string>
  query: string
  contentType: string | undefined
  body: string | undefined
}

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      '',
    ),
  },
)

function bodyOf(
  op: Operation,
): fc.Arbitrary<{ contentType: string | undefined; body: string | undefined }> {
  const schema = op.body
  if (!schema) {
    return fc.oneof(
      { weight: 9, arbitrary: fc.constant({ contentType: undefined, body: undefined }) },
      {
        weight: 1,
        arbitrary: fc.record({ contentType: contentTypes, body: fc.json({ maxDepth: 2 }) }),
      },
    )
  }
  const text = fc.oneof(
    { weight: 5, arbitrary: validValue(schema).map((v) => JSON.stringify(v)) },
    { weight: 4, arbitrary: brokenObject(schema).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: hostileJsonText(schema) },
  )
  return fc.record({ contentType: contentTypes, body: text })
}

function paramsOf(op: Operation): fc.Arbitrary<Record<string, string>> {
  const record: Record<string, fc.Arbitrary<string>> = {}
  for (const p of op.parameters.filter((param) => param.in === 'path')) {
    // Within the router's 100-character parameter limit: a longer one is answered by
    // Fastify's framework-error path, which bypasses the problem renderer (an open finding,
    // reported on its own rather than rediscovered here on every run).
    record[p.name] = fc
      .oneof(
        { weight: 3, arbitrary: validValue(p.schema).map(String) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'me',
            '..',
            '%2e%2e',
            '000000000000000000000000',
            '{"$ne":null}',
            'x'.repeat(100),
          ),
        },
      )
      .filter((value) => encodeURIComponent(value).length <= 100)
  }
  return fc.record(record)
}

function queryOf(op: Operation): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === 'query')
  const valid = fc.record(
    Object.fromEntries(params.map((p) => [p.name, validValue(p.schema).map(String)])),
    { requiredKeys: [] },
  )
  const pairs = (object: Record<string, string | undefined>) =>
    Object.entries(object).map(
      ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v ?? '')}`,
    )
  const hostile = fc.array(
    fc.tuple(
      fc.constantFrom(
        ...params.map((p) => p.name),
        'role',
        'limit[$gt]',
        'cursor[$ne]',
        '__proto__[x]',
        'constructor[prototype][x]',
      ),
      fc.oneof(
        fc.string({ maxLength: 30 }),
        fc.constantFrom('0', '-1', '101', '1e2', 'null', '[]', ''),
      ),
    ),
    { maxLength: 4 },
  )
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('') },
    { weight: params.length > 0 ? 3 : 0, arbitrary: valid.map((o) => pairs(o).join('&')) },
    {
      weight: 2,
      arbitrary: hostile.map((entries) =>
        entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'),
      ),
    },
  )
}

function requestOf(op: Operation): fc.Arbitrary<FuzzRequest> {
  const admin =
    op.path === '/v1/users' || op.path.startsWith('/v1/users/{id}') || op.path === '/v1/audit'
  const auth: fc.Arbitrary<AuthKind> = op.bearer
    ? fc.constantFrom<AuthKind>(
        admin ? 'admin' : 'mine',
        admin ? 'admin' : 'mine',
        'mine',
        'none',
        'garbage',
        'forged',
      )
    : fc.constantFrom<AuthKind>('none', 'none', 'garbage')
  return fc
    .record({ auth, params: paramsOf(op), query: queryOf(op), payload: bodyOf(op) })
    .map(({ payload, ...rest }) => ({ ...rest, ...payload }))
}

/** A fuzz user per operation, logged in again whenever the fuzzing ended its session. */
function tokenSource(label: string) {
  let account: Account | undefined
  let token: string | undefined
  return {
    async get(): Promise<string> {
      account ??= await api.signup(label)
      if (!token) {
        const res = await api.post('/v1/auth/login', {
          email: account.email,
          password: account.password,
        })
        token =
          res.status === 200
            ? res.json<{ accessToken: string }>().accessToken
            : account.session.accessToken
      }
      return token
    },
    invalidate() {
      token = undefined
    },
  }
}

const hostileTokens = fc.sample(
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('null', 'eyJhbGciOiJub25lIn0.e30.', 'a.b.c'),
  ),
  { numRuns: 20, seed },
)

async function credentialFor(auth: AuthKind, mine: ReturnType<typeof tokenSource>, index: number) {
  switch (auth) {
    case 'none':
      return undefined
    case 'mine':
      return mine.get()
    case 'admin':
      return adminToken
    case 'garbage':
      return hostileTokens[index % hostileTokens.length] ?? 'x'
    case 'forged':
      return forge.sign(
        forge.claimsFor(canary.session.user.id, crypto.randomUUID(), {
          roles: ['admin'],
          ...(index % 2 === 0 ? { exp: 1 } : {}),
        }),
      )
  }
}

function check(op: Operation, res: Response, where: string): void {
  expect(res.status, where).toBeLessThan(500)
  if (res.status >= 400) {
    expect(res.headers['content-type'], where).toBe(problemContentType)
    const body = res.json<{ code: ProblemCode; status: number; traceId: string; detail: string }>()
    expect(problemCodes[body.code].status, where).toBe(res.status)
    expect(body.status, where).toBe(res.status)
    expect(body.traceId, where).toBe(res.headers['x-request-id'])
    expect(res.text, where).not.toMatch(/\bat \S+ \(|node_modules|Mongo\w*Error|\.ts:\d/)
  } else if (res.text.length > 0) {
    expect(res.text, where).not.toMatch(/argon2|passwordHash|refreshTokenHash/)
    expect(schemaProblems(res.json(), op.responses[String(res.status)]), where).toEqual([])
  }
}

const endsMySession = (op: Operation) =>
  [
    'POST /v1/auth/logout',
    'DELETE /v1/users/me/sessions/{id}',
    'DELETE /v1/users/me',
    'POST /v1/users/me/password',
  ].includes(`${op.method} ${op.path}`)

describe.concurrent('every operation of /openapi.json', () => {
  it('is documented with request schemas to fuzz', () => {
    expect(operations.length).toBeGreaterThanOrEqual(14)
  })

  const names = [
    'POST /v1/auth/signup',
    'POST /v1/auth/login',
    'POST /v1/auth/refresh',
    'POST /v1/auth/logout',
    'GET /v1/users/me',
    'PATCH /v1/users/me',
    'DELETE /v1/users/me',
    'POST /v1/users/me/password',
    'GET /v1/users/me/sessions',
    'DELETE /v1/users/me/sessions/{id}',
    'GET /v1/users',
    'GET /v1/users/{id}',
    'DELETE /v1/users/{id}',
    'DELETE /v1/users/me/sessions',
    'GET /v1/users/me/activity',
    'PATCH /v1/users/{id}',
    'GET /v1/users/{id}/sessions',
    'DELETE /v1/users/{id}/sessions',
    'GET /v1/audit',
    'GET /.well-known/jwks.json',
  ]
  names.forEach((name, index) => {
    it(`${name} holds the invariants over ${String(runs)} generated requests`, async () => {
      const op = operations.find((o) => `${o.method} ${o.path}` === name)
      expect(op, `${name} is not in /openapi.json`).toBeDefined()
      if (!op) return
      const mine = tokenSource(`fuzz-${String(index)}`)
      let count = 0
      await fc.assert(
        fc.asyncProperty(requestOf(op), async (req) => {
          count++
          const token = await credentialFor(req.auth, mine, count)
          const path = fillPath(op.path, req.params) + (req.query ? `?${req.query}` : '')
          const headers: Record<string, string> = {}
          if (req.contentType !== undefined) headers['content-type'] = req.contentType
          const res = await api.send({
            method: op.method,
            path,
            headers,
            ...(req.body === undefined ? {} : { body: req.body }),
            ...(token === undefined ? {} : { token }),
          })
          check(
            op,
            res,
            `${name} ${path} [${req.auth}] ${String(req.contentType)} ${req.body?.slice(0, 200) ?? ''} → ${String(res.status)} ${res.text.slice(0, 300)}`,
          )
          if (req.auth === 'mine' && res.status < 300 && endsMySession(op)) mine.invalidate()
        }),
        { numRuns: runs, seed: seed + index, endOnFailure: true, interruptAfterTimeLimit: 120_000 },
      )
      sent.set(name, count)
      expect((await api.get('/healthz')).status).toBe(200)
      // Up to the property's own time limit (all operations are fuzzed at once).
    }, 180_000)
  })
})

describe('after the fuzzing', () => {
  it('sent what it was asked to', () => {
    const total = [...sent.values()].reduce((a, b) => a + b, 0)
    console.log(
      `openapi fuzz: ${String(total)} requests, seed ${String(seed)}`,
      Object.fromEntries(sent),
    )
    expect(total).toBeGreaterThanOrEqual(runs * 14)
  })

  it('left the service ready and the canary, its sessions and the admin untouched', async () => {
    expect((await api.get('/readyz')).status).toBe(200)
    expect(await takeSnapshot()).toEqual(snapshot)
    expect((await api.get('/v1/users/me', canary.session.accessToken)).status).toBe(200)
    const admins = await db.collection('users').countDocuments({ roles: 'admin' })
    expect(admins).toBe(1)
    const odd = await db.collection('users').countDocuments({
      $or: [
        { role: { $exists: true } },
        { isAdmin: { $exists: true } },
        { constructor: { $exists: true } },
      ],
    })
    expect(odd).toBe(0)
  })
})
