import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { get, problem, signup, startPair, type Pair } from './pair-harness.js'

function authJwksFetches(p: Pair): Promise<number> {
  return p.auth.inject({ method: 'GET', url: '/metrics' }).then((res) => {
    const line = res.body
      .split('\n')
      .find((l) => l.startsWith('http_requests_total{method="GET",route="/.well-known/jwks.json"'))
    return Number(line?.split(' ').at(-1) ?? 0)
  })
}

describe('access-token verification', () => {
  it('rejects a token past its expiry', async () => {
    // auth-api's clock runs 20 minutes behind: its 15-minute tokens are born expired.
    const pair = await startPair({ authNow: () => Date.now() - 20 * 60_000 })
    const s = await signup(pair.users, 'late@example.com')
    problem(await get(pair.users, '/v1/users/me', s.accessToken), 401, 'UNAUTHORIZED')
  })

  it('remembers a verified token byte for byte only, and not past its expiry', async () => {
    // auth-api's clock runs just under 15 minutes behind: its tokens expire in about 2 s.
    const pair = await startPair({ authNow: () => Date.now() - 15 * 60_000 + 2000 })
    const s = await signup(pair.users, 'remembered@example.com')
    expect((await get(pair.users, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
    const [headerPart, payloadPart, signature] = s.accessToken.split('.') as [
      string,
      string,
      string,
    ]
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString()) as object
    const otherPayload = base64url.encode(JSON.stringify({ ...claims, roles: ['admin'] }))
    // A character inside the signature: all six of its bits are signature bits (the last
    // character's low bits are padding, so changing it may decode to the same bytes).
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`
    for (const forged of [
      `${headerPart}.${otherPayload}.${signature}`,
      `${headerPart}.${payloadPart}.${flipped}`,
      `${s.accessToken}.`,
    ]) {
      problem(await get(pair.users, '/v1/users/me', forged), 401, 'UNAUTHORIZED')
    }
    await new Promise((resolve) => setTimeout(resolve, 2500))
    problem(await get(pair.users, '/v1/users/me', s.accessToken), 401, 'UNAUTHORIZED')
  })

  it('accepts one spelling of a signature only, and the scheme in any case', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'spelling@example.com')
    const [headerPart, payloadPart, signature] = s.accessToken.split('.') as [
      string,
      string,
      string,
    ]
    // An Ed25519 signature is 64 bytes: its last base64url character carries 2 signature bits
    // and 4 unused ones. The 15 other values of those 4 bits decode to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(signature.at(-1) ?? '')
    const respellings = Array.from({ length: 16 }, (_, low) => alphabet[(last & ~15) | low])
      .filter((c) => c !== signature.at(-1))
      .map((c) => `${headerPart}.${payloadPart}.${signature.slice(0, -1)}${c}`)
    expect(respellings).toHaveLength(15)
    // The right spelling is verified (and remembered) first: the others still get 401.
    expect((await get(pair.users, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
    for (const token of respellings) {
      expect(Buffer.from(token.split('.')[2] ?? '', 'base64url')).toEqual(
        Buffer.from(signature, 'base64url'),
      )
      problem(await get(pair.users, '/v1/users/me', token), 401, 'UNAUTHORIZED')
    }
    const me = await pair.users.inject({
      url: '/v1/users/me',
      headers: { authorization: `bearer ${s.accessToken}` },
    })
    expect(me.statusCode).toBe(200)
  })

  it.each([
    ['issuer', { JWT_ISSUER: 'someone-else' }],
    ['audience', { JWT_AUDIENCE: 'another-api' }],
  ])('rejects tokens with the wrong %s', async (_name, authEnv) => {
    const pair = await startPair({ authEnv })
    const s = await signup(pair.users, 'iss@example.com')
    problem(await get(pair.users, '/v1/users/me', s.accessToken), 401, 'UNAUTHORIZED')
  })

  it('rejects alg none, HS256 signed with the public key, and foreign keys', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'forge@example.com')
    const [headerPart, payloadPart] = s.accessToken.split('.') as [string, string]
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as Record<
      string,
      unknown
    >
    const enc = (o: object) => base64url.encode(JSON.stringify(o))

    const none = `${enc({ ...header, alg: 'none' })}.${payloadPart}.`
    problem(await get(pair.users, '/v1/users/me', none), 401, 'UNAUTHORIZED')

    const jwks = (await get(pair.users, '/.well-known/jwks.json')).json<{ keys: { x: string }[] }>()
    const publicKeyBytes = new TextEncoder().encode(jwks.keys[0]?.x ?? '')
    const hs = await new SignJWT(
      JSON.parse(Buffer.from(payloadPart, 'base64url').toString()) as Record<string, unknown>,
    )
      .setProtectedHeader({ ...header, alg: 'HS256' })
      .sign(publicKeyBytes)
    problem(await get(pair.users, '/v1/users/me', hs), 401, 'UNAUTHORIZED')

    const before = await authJwksFetches(pair)
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString()) as Record<
      string,
      unknown
    >
    for (let i = 0; i < 5; i++) {
      const foreign = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: `attacker-${i}` })
        .sign(privateKey)
      problem(await get(pair.users, '/v1/users/me', foreign), 401, 'UNAUTHORIZED')
    }
    // Unknown kids may prompt a refetch, but never one per forged token.
    expect((await authJwksFetches(pair)) - before).toBeLessThanOrEqual(1)

    const embedded = await new SignJWT(claims)
      .setProtectedHeader({
        alg: 'EdDSA',
        typ: 'at+jwt',
        kid: String(header.kid),
        jwk: await exportJWK(publicKey),
      })
      .sign(privateKey)
    problem(await get(pair.users, '/v1/users/me', embedded), 401, 'UNAUTHORIZED')
    // The genuine token still works.
    expect((await get(pair.users, '/v1/users/me', s.accessToken)).statusCode).toBe(200)
  })

  it('rejects a refresh token presented as an access token', async () => {
    const pair = await startPair()
    const s = await signup(pair.users, 'swap@example.com')
    problem(await get(pair.users, '/v1/users/me', s.refreshToken), 401, 'UNAUTHORIZED')
  })
})
