import { beforeAll, describe, expect, inject, it } from 'vitest'
import { client, expectProblem } from '../src/http.js'
import { operationsOf, type Operation } from '../src/openapi.js'

// auth-api is internal (contract: "reachable only inside the cluster and only with a service
// credential"). Every API route it documents refuses a call without the exact credential;
// what is left open is a short, fixed list of probes, metrics, docs and public keys, which the
// network policy keeps inside the cluster (SECURITY.md).

const pair = inject('pair')
const auth = client(pair.authUrl)
let operations: Operation[]

const bodies: Record<string, unknown> = {
  '/v1/passwords/hash': { password: 'a password to hash' },
  '/v1/passwords/verify': { password: 'a password to verify', hash: null },
  '/v1/tokens': { sub: '000000000000000000000001', sid: 'forged-session', roles: ['admin'] },
  '/v1/logins': {
    password: 'a password to verify',
    hash: null,
    token: { sub: '000000000000000000000001', sid: 'forged-session', roles: ['admin'] },
  },
  '/v1/credential': undefined,
  '/v1/totp/enroll': { accountName: 'mallory@example.com', issuer: 'users-auth' },
  '/v1/totp/verify': { ciphertext: 'v1.k.AAAAAAAAAAAAAAAA.AAAA', code: '123456', afterStep: 0 },
}

beforeAll(async () => {
  operations = await operationsOf(pair.authUrl)
})

/** The documented path without the trailing slash a prefixed route gets. */
const pathOf = (op: Operation) => op.path.replace(/(.)\/$/, '$1')

function call(op: Operation, headers: Record<string, string>, path = pathOf(op)) {
  return auth.send({ method: op.method, path, body: bodies[pathOf(op)], headers })
}

describe('auth-api', () => {
  it('documents its API routes as credential-protected, and only these are open', async () => {
    const protectedRoutes = operations.filter((op) => op.bearer).map(pathOf)
    expect(protectedRoutes.sort()).toEqual(Object.keys(bodies).sort())
    const open = operations.filter((op) => !op.bearer).map((op) => `${op.method} ${op.path}`)
    expect(open).toEqual(['GET /.well-known/jwks.json'])
    // The operational endpoints are hidden from the document but answer without a credential.
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      expect((await auth.get(path)).status, path).toBe(200)
    }
  })

  it('refuses every API route without the credential, or with anything but the exact one', async () => {
    const credential = pair.credential
    const wrong: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: `Bearer ${credential}x` },
      { authorization: `Bearer ${credential.slice(0, -1)}` },
      { authorization: `Bearer ${credential.slice(0, 16)}` },
      { authorization: `Bearer ${credential.toUpperCase()}` },
      { authorization: `Bearer  ${credential}` },
      { authorization: `bearer ${credential}` },
      { authorization: `Basic ${Buffer.from(`users-api:${credential}`).toString('base64')}` },
      { authorization: credential },
      { authorization: 'Bearer dev-internal-token-not-for-production' },
      { 'x-internal-token': credential },
      { 'x-api-key': credential },
      { cookie: `token=${credential}` },
    ]
    for (const op of operations.filter((o) => o.bearer)) {
      for (const headers of wrong) {
        const res = await call(op, headers)
        expect(res.status, `${op.path} ${JSON.stringify(headers)}`).toBe(401)
        const problem = expectProblem(res, 401, 'UNAUTHORIZED')
        expect(problem.detail).not.toContain(credential)
      }
      // The credential in the query string is not a credential either.
      const res = await call(op, {}, `${pathOf(op)}?token=${credential}&access_token=${credential}`)
      expectProblem(res, 401, 'UNAUTHORIZED')
    }
  })

  it('refuses an unauthenticated call before reading, validating or hashing its body', async () => {
    const res = await auth.send({
      method: 'POST',
      path: '/v1/passwords/hash',
      headers: { 'content-type': 'application/json' },
      body: '{not json at all',
    })
    expectProblem(res, 401, 'UNAUTHORIZED')
    const huge = await auth.send({
      method: 'POST',
      path: '/v1/tokens',
      body: { sub: 'x'.repeat(10_000), sid: 'y', roles: ['root'] },
    })
    expectProblem(huge, 401, 'UNAUTHORIZED')
  })

  it('with the credential, still refuses hostile input (claims, hashes that would exhaust it)', async () => {
    const headers = { authorization: `Bearer ${pair.credential}` }
    const send = (path: string, body: unknown) => auth.send({ method: 'POST', path, body, headers })
    for (const body of [
      { sub: 'u', sid: 's', roles: ['root'] },
      { sub: 'u', sid: 's', roles: ['admin'], iss: 'evil', aud: 'evil' },
      { sub: 'x'.repeat(129), sid: 's', roles: [] },
      { sub: { $ne: null }, sid: 's', roles: [] },
    ]) {
      expectProblem(await send('/v1/tokens', body), 400, 'VALIDATION_FAILED')
    }
    for (const hash of [
      '$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$argon2id$v=19$m=1024,t=100000,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$argon2id$v=19$m=1024,t=1,p=255$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      '$2b$10$abcdefghijklmnopqrstuuNotArgonAtAll.................',
      'plaintext',
    ]) {
      const started = Date.now()
      const res = await send('/v1/passwords/verify', { password: 'x', hash })
      expectProblem(res, 400, 'VALIDATION_FAILED')
      expect(Date.now() - started).toBeLessThan(1000)
    }
    const control = await send('/v1/passwords/verify', { password: 'x', hash: null })
    expect(control.json()).toEqual({ valid: false, needsRehash: false })
  })

  it('serves public keys only: no private key material in its JWKS', async () => {
    const jwks = (await auth.get('/.well-known/jwks.json')).json<{
      keys: Record<string, unknown>[]
    }>()
    expect(jwks.keys.length).toBe(2)
    for (const key of jwks.keys) {
      for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        expect(key).not.toHaveProperty(field)
      expect(['EdDSA', 'ES256']).toContain(key.alg)
      expect(key.use).toBe('sig')
    }
  })
})
