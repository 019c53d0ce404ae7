import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { bearer, buildAuthApi, type Harness } from './auth-api-harness.js'

let harness: Harness | undefined
afterEach(async () => {
  await harness?.app.close()
  harness = undefined
})

async function start(env: Record<string, string> = {}): Promise<Harness> {
  harness = await buildAuthApi({ env })
  return harness
}

function post(h: Harness, url: string, payload: unknown, headers: Record<string, string> = bearer) {
  return h.app.inject({ method: 'POST', url, payload: payload as object, headers })
}

async function hashOf(h: Harness, password: string): Promise<string> {
  const res = await post(h, '/v1/passwords/hash', { password })
  expect(res.statusCode).toBe(200)
  return res.json<{ hash: string }>().hash
}

async function verifyJobs(h: Harness): Promise<number> {
  const res = await h.app.inject({ method: 'GET', url: '/metrics' })
  const match = /auth_password_job_duration_seconds_count\{operation="verify"\} (\d+)/.exec(
    res.body,
  )
  return Number(match?.[1] ?? 0)
}

const claims = { sub: 'user-1', sid: 'session-1', roles: ['user'] }
const password = 'plum tractor velvet orbit 47'

describe('POST /v1/logins', () => {
  it('answers a right password with a token that verifies against the JWKS with the claims', async () => {
    const h = await start()
    const hash = await hashOf(h, password)
    const res = await post(h, '/v1/logins', {
      password,
      hash,
      token: { ...claims, roles: ['user', 'admin'], amr: ['pwd'], auth_time: 1_780_000_000 },
    })
    expect(res.statusCode).toBe(200)
    const body = res.json<{
      valid: boolean
      needsRehash: boolean
      accessToken: string
      expiresIn: number
    }>()
    expect(body).toMatchObject({ valid: true, needsRehash: false, expiresIn: 900 })
    const jwks = (
      await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
    ).json<JSONWebKeySet>()
    const { payload, protectedHeader } = await jwtVerify(
      body.accessToken,
      createLocalJWKSet(jwks),
      { issuer: 'users-auth', audience: 'users-auth', typ: 'at+jwt' },
    )
    expect(protectedHeader.kid).toBe(h.keyRing.signing.kid)
    expect(payload).toMatchObject({
      sub: 'user-1',
      sid: 'session-1',
      roles: ['user', 'admin'],
      amr: ['pwd'],
      auth_time: 1_780_000_000,
    })
    expect(payload.exp! - payload.iat!).toBe(900)
    expect(await verifyJobs(h)).toBe(1)
  })

  it('answers a wrong password with no token', async () => {
    const h = await start()
    const hash = await hashOf(h, password)
    const res = await post(h, '/v1/logins', { password: `${password}!`, hash, token: claims })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ valid: false, needsRehash: false })
  })

  it('runs the dummy hash for a null hash and answers invalid, with no token', async () => {
    const h = await start()
    const res = await post(h, '/v1/logins', { password, hash: null, token: claims })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ valid: false, needsRehash: false })
    expect(await verifyJobs(h)).toBe(1)
  })

  it('asks for a rehash, with the token, when the parameters rose since the hash', async () => {
    const h = await start()
    const hash = await hashOf(h, password)
    await h.app.close()
    const stronger = await start({ ARGON2_MEMORY_KIB: '2048' })
    const res = await post(stronger, '/v1/logins', { password, hash, token: claims })
    expect(res.json()).toMatchObject({ valid: true, needsRehash: true })
    expect(res.json<{ accessToken?: string }>().accessToken).toEqual(expect.any(String))
  })

  it('refuses a foreign or over-costly stored hash with 400 before any work', async () => {
    const h = await start()
    for (const hash of [
      '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy',
      '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$7FfsnA6vUe7qLpL/3Kqc3uR48ZJyFbUVt7jWZlf0Htk',
    ]) {
      const res = await post(h, '/v1/logins', { password, hash, token: claims })
      expect(res.statusCode).toBe(400)
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
    }
    expect(await verifyJobs(h)).toBe(0)
  })

  it.each([
    ['no token', { password, hash: null }],
    ['no password', { hash: null, token: claims }],
    ['an empty password', { password: '', hash: null, token: claims }],
    ['a hash that is a number', { password, hash: 5, token: claims }],
    ['an unknown field', { password, hash: null, token: claims, admin: true }],
    ['an unknown token field', { password, hash: null, token: { ...claims, exp: 1 } }],
    ['an unknown role', { password, hash: null, token: { ...claims, roles: ['root'] } }],
    ['an unknown method', { password, hash: null, token: { ...claims, amr: ['sms'] } }],
    ['a negative auth_time', { password, hash: null, token: { ...claims, auth_time: -1 } }],
    ['an empty sub', { password, hash: null, token: { ...claims, sub: '' } }],
    ['a password over 1,024 bytes', { password: 'é'.repeat(513), hash: null, token: claims }],
    ['a lone surrogate', { password: 'pass\ud800word', hash: null, token: claims }],
  ])('answers 400 VALIDATION_FAILED for %s', async (_name, body) => {
    const h = await start()
    const res = await post(h, '/v1/logins', body)
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
    expect(await verifyJobs(h)).toBe(0)
  })

  it('requires the service credential', async () => {
    const h = await start()
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 'Basic x' },
    ]
    for (const headers of attempts) {
      const res = await post(h, '/v1/logins', { password, hash: null, token: claims }, headers)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED' })
    }
    expect(await verifyJobs(h)).toBe(0)
  })
})
