import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AuthApiBusyError,
  AuthApiClient,
  AuthApiRejectedError,
  AuthApiUnavailableError,
  authApiPaths,
} from '../src/index.js'

const credential = 'client-test-credential-0123456789abcdef'
const jwks = { keys: [{ kty: 'OKP', kid: 'k1', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x: 'x' }] }

let server: Server | undefined
let client: AuthApiClient | undefined
afterEach(async () => {
  await client?.close()
  server?.close()
  client = undefined
  server = undefined
})

/** Serves `handler` as a stand-in auth-api on an ephemeral port; the client points at it. */
async function standIn(handler: RequestListener): Promise<AuthApiClient> {
  server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  client = new AuthApiClient({ baseUrl: `http://127.0.0.1:${address.port}`, credential })
  return client
}

/** A stand-in auth-api: public JWKS, and a credential check that accepts `accepted` only. */
async function start(accepted: string): Promise<AuthApiClient> {
  return standIn((req, res) => {
    res.setHeader('content-type', 'application/json')
    if (req.url === authApiPaths.jwks) {
      res.end(JSON.stringify(jwks))
      return
    }
    if (req.headers.authorization !== `Bearer ${accepted}`) {
      res.statusCode = 401
      res.end(JSON.stringify({ status: 401, code: 'UNAUTHORIZED', detail: 'credential' }))
      return
    }
    res.end(JSON.stringify({ accepted: true }))
  })
}

describe('the service credential', () => {
  it('counts as accepted after a 2xx on a credentialed route, not after the public JWKS', async () => {
    const c = await start(credential)
    expect(c.credentialAccepted).toBe(false)
    await c.getJwks()
    expect(c.credentialAccepted).toBe(false)
    await c.checkCredential()
    expect(c.credentialAccepted).toBe(true)
  })

  it('refused: a rejection that names the credential for the logs and keeps auth-api’s code apart', async () => {
    const c = await start('another-credential')
    const error: unknown = await c.checkCredential().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthApiRejectedError)
    const rejected = error as AuthApiRejectedError
    expect(rejected.status).toBe(401)
    expect(rejected.authApiCode).toBe('UNAUTHORIZED')
    // Nothing that a renderer could take for a catalogue code of its own.
    expect((rejected as unknown as { code?: unknown }).code).toBeUndefined()
    expect(rejected.message).toContain('auth-api refused the service credential (401')
    expect(rejected.message).not.toContain(credential)
    expect(c.credentialAccepted).toBe(false)
  })
})

describe('verifyAndMint', () => {
  const token = { accessToken: 'header.payload.signature', expiresIn: 900 }
  const claims = { sub: 'user-1', sid: 'session-1', roles: ['user' as const] }

  /** A stand-in auth-api that records each request and answers `answer` to /v1/logins. */
  async function answering(answer: unknown, seen: { path?: string; body?: unknown }[] = []) {
    return standIn((req, res) => {
      let text = ''
      req.on('data', (chunk: Buffer) => (text += chunk.toString()))
      req.on('end', () => {
        seen.push({ ...(req.url ? { path: req.url } : {}), body: JSON.parse(text) as unknown })
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(answer))
      })
    })
  }

  it('sends the password, hash and claims in one call and returns the token when valid', async () => {
    const seen: { path?: string; body?: unknown }[] = []
    const c = await answering({ valid: true, needsRehash: true, ...token }, seen)
    const result = await c.verifyAndMint('pw', '$argon2id$x', claims, { requestId: 'r1' })
    expect(result).toEqual({ valid: true, needsRehash: true, token })
    expect(seen).toEqual([
      { path: authApiPaths.logins, body: { password: 'pw', hash: '$argon2id$x', token: claims } },
    ])
    expect(c.credentialAccepted).toBe(true)
  })

  it('returns no token when the password is wrong', async () => {
    const c = await answering({ valid: false, needsRehash: false })
    await expect(c.verifyAndMint('pw', null, claims)).resolves.toEqual({
      valid: false,
      needsRehash: false,
    })
  })

  it.each([
    ['valid without a token', { valid: true, needsRehash: false }],
    ['valid with half a token', { valid: true, needsRehash: false, accessToken: 'a.b.c' }],
    ['invalid with a token', { valid: false, needsRehash: false, ...token }],
    ['invalid with an expiry alone', { valid: false, needsRehash: false, expiresIn: 900 }],
    ['no needsRehash', { valid: false }],
    [
      'a token that is not a string',
      { valid: true, needsRehash: false, accessToken: 1, expiresIn: 9 },
    ],
  ])('treats a 200 %s as an unexpected answer', async (_name, answer) => {
    const c = await answering(answer)
    const error: unknown = await c.verifyAndMint('pw', null, claims).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthApiUnavailableError)
    expect((error as Error).message).toBe('auth-api sent a malformed answer')
  })
})

/** A stand-in auth-api whose hashing queue is full. */
const atCapacity = () =>
  standIn((_req, res) => {
    res.statusCode = 503
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ status: 503, code: 'SERVICE_UNAVAILABLE' }))
  })

describe('auth-api at capacity', () => {
  it.each([
    ['5', 5],
    ['0.2', 1],
    ['1e300', 60],
    ['soon', 1],
    [undefined, 1],
  ])('passes on Retry-After %s as %i s', async (header, seconds) => {
    const c = await standIn((_req, res) => {
      res.statusCode = 503
      res.setHeader('content-type', 'application/json')
      if (header !== undefined) res.setHeader('retry-after', header)
      res.end(JSON.stringify({ status: 503, code: 'SERVICE_UNAVAILABLE' }))
    })
    const error: unknown = await c.checkCredential().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthApiBusyError)
    expect((error as AuthApiBusyError).retryAfter).toBe(seconds)
    expect((error as AuthApiBusyError).loadShedding).toBe(true)
  })

  it('refuses password work at once for a moment after, with errors that carry no stack', async () => {
    const c = await atCapacity()
    const limit = Error.stackTraceLimit
    const answered: unknown = await c.checkCredential().catch((e: unknown) => e)
    const held = c.busy()
    for (const error of [answered, held]) {
      expect(error).toBeInstanceOf(AuthApiBusyError)
      // Shed load is only counted in the logs: a stack would be captured for nothing.
      expect((error as Error).stack).not.toMatch(/\n\s+at /)
    }
    expect(held?.retryAfter).toBe(1)
    expect(Error.stackTraceLimit).toBe(limit)
    expect(new Error('a fault').stack).toMatch(/\n\s+at /)
  })

  it('still refuses where Error.stackTraceLimit cannot be set', async () => {
    const c = await atCapacity()
    const original = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')
    if (!original) throw new Error('no Error.stackTraceLimit here')
    // As under node --frozen-intrinsics: assigning it throws in strict code.
    Object.defineProperty(Error, 'stackTraceLimit', { ...original, writable: false })
    try {
      const answered: unknown = await c.checkCredential().catch((e: unknown) => e)
      expect(answered).toBeInstanceOf(AuthApiBusyError)
      expect(c.busy()).toBeInstanceOf(AuthApiBusyError)
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', original)
    }
  })
})
