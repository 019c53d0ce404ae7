import { createHmac, generateKeyPairSync } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { usersApi, type Account } from '../src/api.js'
import { claimsOf, encodeSegment, forger, headerOf } from '../src/forge.js'
import { client, expectProblem } from '../src/http.js'

// RFC 8725 (JWT BCP) and RFC 9068 (access-token profile) as users-api must apply them: every
// token below is refused with 401 UNAUTHORIZED, while a genuine one keeps working.

const pair = inject('pair')
const api = usersApi(pair)
let forge: ReturnType<typeof forger>
let alice: Account
let bob: Account

beforeAll(async () => {
  forge = forger(pair.privateJwks, pair.issuer, pair.audience)
  ;[alice, bob] = await Promise.all([api.signup('jwt-alice'), api.signup('jwt-bob')])
})

const sid = () => String(claimsOf(alice.session.accessToken).sid)
const sub = () => alice.session.user.id

async function expectRefused(token: string, label: unknown = ''): Promise<void> {
  const res = await api.get('/v1/users/me', token)
  if (res.status !== 401)
    throw new Error(
      `accepted ${JSON.stringify(label, (_k, v: unknown) => (v === undefined ? '<missing>' : v))}: ${res.status}`,
    )
  expectProblem(res, 401, 'UNAUTHORIZED')
}

async function expectAccepted(token: string): Promise<void> {
  const res = await api.get('/v1/users/me', token)
  expect(res.status, res.text).toBe(200)
  expect(res.json<{ id: string }>().id).toBe(sub())
}

function segments(token: string): [string, string, string] {
  const [h = '', p = '', s = ''] = token.split('.')
  return [h, p, s]
}

describe('control', () => {
  it('accepts the token users-api issued and one forged with every claim right', async () => {
    await expectAccepted(alice.session.accessToken)
    await expectAccepted(forge.sign(forge.claimsFor(sub(), sid())))
    // A key published for verification during a rotation also verifies (ES256 here).
    await expectAccepted(forge.sign(forge.claimsFor(sub(), sid()), {}, 1))
    // RFC 9068 allows the media-type spelling of typ.
    await expectAccepted(forge.sign(forge.claimsFor(sub(), sid()), { typ: 'application/at+jwt' }))
  })

  it('issues tokens with the RFC 9068 header and claims, asymmetric and short-lived', () => {
    const header = headerOf(alice.session.accessToken)
    const claims = claimsOf(alice.session.accessToken)
    expect(header.typ).toBe('at+jwt')
    expect(['EdDSA', 'ES256']).toContain(header.alg)
    expect(typeof header.kid).toBe('string')
    expect(claims).toMatchObject({ iss: pair.issuer, aud: pair.audience, sub: sub() })
    for (const name of ['sid', 'jti', 'iat', 'exp'] as const) expect(claims[name]).toBeDefined()
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900)
    expect(alice.session.expiresIn).toBe(900)
  })
})

describe('integrity', () => {
  it('refuses a tampered payload that keeps the original signature', async () => {
    const [h, p, s] = segments(alice.session.accessToken)
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    for (const change of [
      { sub: bob.session.user.id },
      { roles: ['user', 'admin'] },
      { exp: Number(claims.exp) + 3600 },
    ]) {
      await expectRefused(`${h}.${encodeSegment({ ...claims, ...change })}.${s}`)
    }
  })

  it('refuses a flipped, truncated, stripped or foreign signature', async () => {
    const [h, p, s] = segments(alice.session.accessToken)
    const bytes = Buffer.from(s, 'base64url')
    bytes[0] = (bytes[0] ?? 0) ^ 0x01
    await expectRefused(`${h}.${p}.${bytes.toString('base64url')}`)
    await expectRefused(`${h}.${p}.${s.slice(0, 20)}`)
    await expectRefused(`${h}.${p}.`)
    await expectRefused(`${h}.${p}`)
    const [, , bobSignature] = segments(bob.session.accessToken)
    await expectRefused(`${h}.${p}.${bobSignature}`)
  })

  it('refuses a token signed by a key that is not the pair’s, even under the pair’s kid', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const token = await new SignJWT(forge.claimsFor(sub(), sid()))
      .setProtectedHeader({ alg: 'EdDSA', kid: forge.active.kid, typ: 'at+jwt' })
      .sign(privateKey)
    await expectRefused(token)
  })
})

describe('algorithms', () => {
  it('refuses alg none in every spelling', async () => {
    const [, p] = segments(alice.session.accessToken)
    for (const alg of ['none', 'None', 'NONE', 'nOnE', '']) {
      const h = encodeSegment({ ...headerOf(alice.session.accessToken), alg })
      await expectRefused(`${h}.${p}.`)
      await expectRefused(`${h}.${p}.${segments(alice.session.accessToken)[2]}`)
    }
  })

  it('refuses HMAC tokens keyed with the published public key (algorithm confusion)', async () => {
    const [, p] = segments(alice.session.accessToken)
    const jwks = (await api.get('/.well-known/jwks.json')).json<{
      keys: Record<string, string>[]
    }>()
    const published = jwks.keys.find((k) => k.kid === forge.active.kid)
    expect(published).toBeDefined()
    const { createPublicKey } = await import('node:crypto')
    const pem = createPublicKey({ key: published ?? {}, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString()
    const secrets = [pem, published?.x ?? '', JSON.stringify(published)]
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      for (const secret of secrets) {
        const h = encodeSegment({ alg, kid: forge.active.kid, typ: 'at+jwt' })
        const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg] ?? 'sha256'
        const sig = createHmac(digest, secret).update(`${h}.${p}`).digest('base64url')
        await expectRefused(`${h}.${p}.${sig}`)
      }
    }
  })

  it('refuses an algorithm that does not match the key the kid names', async () => {
    // The ES256 key's kid with an EdDSA signature, and the other way round.
    const ed = forge.keys[0]
    const ec = forge.keys[1]
    expect(ed && ec).toBeTruthy()
    await expectRefused(forge.sign(forge.claimsFor(sub(), sid()), { kid: ec?.kid }, 0))
    await expectRefused(forge.sign(forge.claimsFor(sub(), sid()), { kid: ed?.kid }, 1))
  })

  it('refuses RSA and other algorithms users-api does not accept', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    for (const alg of ['RS256', 'PS256']) {
      const token = await new SignJWT(forge.claimsFor(sub(), sid()))
        .setProtectedHeader({ alg, kid: forge.active.kid, typ: 'at+jwt' })
        .sign(privateKey)
      await expectRefused(token)
    }
  })
})

describe('key selection headers (RFC 8725 §3.10)', () => {
  it('refuses a missing kid and hostile kids, without a key fetch per token', async () => {
    const before = await jwksFetches()
    const hostile: unknown[] = [
      undefined,
      '',
      'unknown-key',
      '../../../../../../etc/passwd',
      '/dev/null',
      'file:///etc/passwd',
      "' OR '1'='1",
      '"; DROP TABLE keys; --',
      '{"$ne":null}',
      'x'.repeat(10_000),
      'kid\u0000null',
      42,
      { $ne: null },
      [forge.active.kid],
    ]
    for (const kid of hostile) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid()), { kid }), kid)
    }
    // An unknown kid may trigger a refetch of auth-api's keys (at most one per few seconds),
    // never one per token.
    expect((await jwksFetches()) - before).toBeLessThan(hostile.length / 2)
    await expectAccepted(alice.session.accessToken)
  })

  it('refuses tokens that name their own key (jku, x5u, jwk, x5c) or carry crit', async () => {
    const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const jwk = await exportJWK(publicKey)
    const hostile = [
      { jku: 'http://127.0.0.1:9/jwks.json' },
      { x5u: 'http://127.0.0.1:9/cert.pem' },
      { jwk },
      { x5c: ['MIIBfake'] },
      { crit: ['exp'] },
    ]
    // Signed with the genuine key: the header alone must be reason to refuse.
    for (const header of hostile) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid()), header), header)
    }
  })
})

describe('claims', () => {
  it('refuses a wrong, missing or listed-elsewhere issuer and audience', async () => {
    for (const claims of [
      { iss: undefined },
      { iss: 'https://evil.example' },
      { iss: `${pair.issuer} ` },
      { aud: 'another-api' },
      { aud: undefined },
      { aud: ['another-api'] },
    ]) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid(), claims)), claims)
    }
  })

  it('refuses a wrong or missing typ (an ID token or a bare JWT is not an access token)', async () => {
    for (const typ of [undefined, 'JWT', 'jwt', 'id+jwt', 'refresh+jwt', 'at+jwt+x', 'at']) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid()), { typ }), typ)
    }
  })

  it('refuses expired tokens and tokens not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000)
    for (const claims of [
      { iat: now - 3600, exp: now - 1800 },
      { iat: now - 1000, exp: now - 60 },
      { nbf: now + 3600 },
      { exp: undefined },
      { exp: 'never' },
      { iat: undefined },
    ]) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid(), claims)), claims)
    }
  })

  it('refuses tokens without a jti, sub or sid', async () => {
    for (const claims of [{ jti: undefined }, { sub: undefined }, { sid: undefined }]) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid(), claims)), claims)
    }
  })

  it('refuses a session the server does not know, or one that belongs to someone else', async () => {
    const bobSid = String(claimsOf(bob.session.accessToken).sid)
    await expectRefused(forge.sign(forge.claimsFor(sub(), crypto.randomUUID())))
    await expectRefused(forge.sign(forge.claimsFor(bob.session.user.id, sid())))
    await expectRefused(forge.sign(forge.claimsFor(sub(), bobSid)))
    await expectRefused(forge.sign(forge.claimsFor('000000000000000000000000', sid())))
  })

  it('refuses operator objects and odd types in sub and sid without an error', async () => {
    for (const claims of [
      { sub: { $ne: null } },
      { sid: { $ne: null } },
      { sid: { $gt: '' } },
      { sub: [sub()] },
      { sid: [sid()] },
      { sub: 1 },
      { sid: true },
      { sub: `${sub()}' || '1'=='1` },
    ]) {
      await expectRefused(forge.sign(forge.claimsFor(sub(), sid(), claims)), claims)
    }
  })

  it('takes roles from the account, never from the token', async () => {
    const escalated = forge.sign(forge.claimsFor(sub(), sid(), { roles: ['user', 'admin'] }))
    await expectAccepted(escalated)
    expectProblem(await api.get('/v1/users', escalated), 403, 'FORBIDDEN')
    expectProblem(await api.get(`/v1/users/${bob.session.user.id}`, escalated), 403, 'FORBIDDEN')
  })
})

describe('token confusion and transport', () => {
  it('refuses a refresh token presented as an access token', async () => {
    await expectRefused(alice.session.refreshToken)
  })

  it('refuses malformed compact serialisations and JWE-shaped tokens', async () => {
    const [h, p, s] = segments(alice.session.accessToken)
    for (const token of [
      `${h}.${p}.${s}.extra`,
      `${h}.${p}.${s}.a.b`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${p}.${s}=`,
      `${h} .${p}.${s}`,
      `${encodeSegment({ alg: 'dir', enc: 'A256GCM' })}..iv.cipher.tag`,
      Buffer.from(alice.session.accessToken).toString('base64'),
    ]) {
      await expectRefused(token)
    }
  })

  it('accepts a token only in the Authorization header, never in the URL or a cookie', async () => {
    const token = alice.session.accessToken
    const raw = client(pair.usersUrl)
    for (const path of [`/v1/users/me?access_token=${token}`, `/v1/users/me?token=${token}`]) {
      expectProblem(await raw.get(path), 401, 'UNAUTHORIZED')
    }
    expectProblem(
      await raw.send({ path: '/v1/users/me', headers: { cookie: `access_token=${token}` } }),
      401,
      'UNAUTHORIZED',
    )
  })
})

async function jwksFetches(): Promise<number> {
  const res = await client(pair.authUrl).get('/metrics')
  const line = res.text
    .split('\n')
    .find((l) => l.startsWith('http_requests_total{method="GET",route="/.well-known/jwks.json"'))
  return Number(line?.split(' ').at(-1) ?? 0)
}
