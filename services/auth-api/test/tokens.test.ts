import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { generatePrivateJwk, KeyConfigError, loadKeyRing } from '../src/crypto/key-ring.js'
import { bearer, buildAuthApi, type Harness } from './auth-api-harness.js'

let harness: Harness | undefined
afterEach(async () => {
  await harness?.app.close()
  harness = undefined
})

async function mint(
  h: Harness,
  claims: object = { sub: 'user-1', sid: 'session-1', roles: ['user'] },
) {
  const res = await h.app.inject({
    method: 'POST',
    url: '/v1/tokens',
    headers: bearer,
    payload: claims,
  })
  expect(res.statusCode).toBe(200)
  return res.json<{ accessToken: string; expiresIn: number }>()
}

async function servedJwks(h: Harness): Promise<JSONWebKeySet> {
  const res = await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  expect(res.headers['cache-control']).toContain('max-age')
  return res.json<JSONWebKeySet>()
}

const issuerAudience = { issuer: 'users-auth', audience: 'users-auth' }

describe('POST /v1/tokens', () => {
  it('mints a token that an independent library verifies against the served JWKS', async () => {
    harness = await buildAuthApi()
    const { accessToken, expiresIn } = await mint(harness, {
      sub: 'user-1',
      sid: 'session-1',
      roles: ['user', 'admin'],
    })
    expect(expiresIn).toBe(900)
    const { payload, protectedHeader } = await jwtVerify(
      accessToken,
      createLocalJWKSet(await servedJwks(harness)),
      {
        ...issuerAudience,
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
      },
    )
    expect(protectedHeader).toMatchObject({
      alg: 'EdDSA',
      typ: 'at+jwt',
      kid: harness.keyRing.signing.kid,
    })
    expect(payload).toMatchObject({
      sub: 'user-1',
      sid: 'session-1',
      roles: ['user', 'admin'],
      ...{ iss: 'users-auth', aud: 'users-auth' },
    })
    expect(payload.exp! - payload.iat!).toBe(900)
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/)
    const second = await mint(harness)
    const secondPayload = (
      await jwtVerify(
        second.accessToken,
        createLocalJWKSet(await servedJwks(harness)),
        issuerAudience,
      )
    ).payload
    expect(secondPayload.jti).not.toBe(payload.jti)
  })

  it('carries amr and auth_time when asked, and refuses an unknown method', async () => {
    harness = await buildAuthApi()
    const { accessToken } = await mint(harness, {
      sub: 'user-1',
      sid: 'session-1',
      roles: ['user'],
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: 1_780_000_000,
    })
    const { payload } = await jwtVerify(
      accessToken,
      createLocalJWKSet(await servedJwks(harness)),
      issuerAudience,
    )
    expect(payload).toMatchObject({ amr: ['pwd', 'otp', 'mfa'], auth_time: 1_780_000_000 })
    const refused = await harness.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: bearer,
      payload: { sub: 'u', sid: 's', roles: ['user'], amr: ['sms'] },
    })
    expect(refused.statusCode).toBe(400)
  })

  it('takes its timestamps from the injected clock, so expiry is testable without sleeping', async () => {
    const fixed = Date.UTC(2030, 0, 1, 12, 0, 0)
    harness = await buildAuthApi({ now: () => fixed, env: { ACCESS_TOKEN_TTL: '5m' } })
    const { accessToken, expiresIn } = await mint(harness)
    expect(expiresIn).toBe(300)
    const jwks = createLocalJWKSet(await servedJwks(harness))
    const { payload } = await jwtVerify(accessToken, jwks, {
      ...issuerAudience,
      currentDate: new Date(fixed + 1000),
    })
    expect(payload.iat).toBe(fixed / 1000)
    expect(payload.exp).toBe(fixed / 1000 + 300)
    await expect(
      jwtVerify(accessToken, jwks, { ...issuerAudience, currentDate: new Date(fixed + 301_000) }),
    ).rejects.toThrow(/exp/)
  })

  it('signs with ES256 when the configured key is P-256', async () => {
    const keyRing = await loadKeyRing(JSON.stringify({ keys: [await generatePrivateJwk('ES256')] }))
    harness = await buildAuthApi({ keyRing })
    const { accessToken } = await mint(harness)
    expect(decodeProtectedHeader(accessToken).alg).toBe('ES256')
    await jwtVerify(accessToken, createLocalJWKSet(await servedJwks(harness)), {
      ...issuerAudience,
      algorithms: ['ES256'],
    })
  })

  it('rejects claims outside the schema', async () => {
    harness = await buildAuthApi()
    for (const payload of [
      { sub: 'u', sid: 's', roles: ['root'] },
      { sub: 'u', sid: 's', roles: ['user'], exp: 99999999999 },
      { sub: '', sid: 's', roles: [] },
      { sub: 'u', roles: [] },
    ]) {
      const res = await harness.app.inject({
        method: 'POST',
        url: '/v1/tokens',
        headers: bearer,
        payload,
      })
      expect(res.statusCode).toBe(400)
    }
  })
})

describe('key rotation', () => {
  it('publishes every configured key, signs with the first, and old tokens still verify', async () => {
    const oldKey = await generatePrivateJwk()
    const newKey = await generatePrivateJwk()
    // Before the rotation: only the old key.
    harness = await buildAuthApi({ keyRing: await loadKeyRing(JSON.stringify({ keys: [oldKey] })) })
    const { accessToken: oldToken } = await mint(harness)
    await harness.app.close()

    // Step 1: the new key is published but does not sign yet.
    harness = await buildAuthApi({
      keyRing: await loadKeyRing(JSON.stringify({ keys: [oldKey, newKey] })),
    })
    expect((await servedJwks(harness)).keys.map((k) => k.kid)).toEqual([oldKey.kid, newKey.kid])
    expect(decodeProtectedHeader((await mint(harness)).accessToken).kid).toBe(oldKey.kid)
    await harness.app.close()

    // Step 2: the new key signs; the old one stays published until its tokens expire.
    harness = await buildAuthApi({
      keyRing: await loadKeyRing(JSON.stringify({ keys: [newKey, oldKey] })),
    })
    const jwks = createLocalJWKSet(await servedJwks(harness))
    const { accessToken: newToken } = await mint(harness)
    expect(decodeProtectedHeader(newToken).kid).toBe(newKey.kid)
    await jwtVerify(newToken, jwks, issuerAudience)
    await jwtVerify(oldToken, jwks, issuerAudience)
  })

  it('never publishes private key material', async () => {
    harness = await buildAuthApi()
    const jwks = await servedJwks(harness)
    for (const key of jwks.keys) {
      expect(key).not.toHaveProperty('d')
      expect(key).toMatchObject({ use: 'sig', alg: 'EdDSA', kty: 'OKP', crv: 'Ed25519' })
    }
  })
})

describe('loadKeyRing', () => {
  it.each([
    ['not JSON', 'nope'],
    ['no keys', '{"keys":[]}'],
    [
      'a public key only',
      JSON.stringify({
        keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }],
      }),
    ],
    ['a symmetric key', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', d: 'x' }] })],
  ])('refuses %s', async (_name, text) => {
    await expect(loadKeyRing(text)).rejects.toThrow(KeyConfigError)
  })

  it('refuses duplicate kids and a mismatched alg', async () => {
    const key = await generatePrivateJwk()
    await expect(loadKeyRing(JSON.stringify({ keys: [key, key] }))).rejects.toThrow(/duplicate/)
    await expect(loadKeyRing(JSON.stringify({ keys: [{ ...key, alg: 'HS256' }] }))).rejects.toThrow(
      KeyConfigError,
    )
  })
})
