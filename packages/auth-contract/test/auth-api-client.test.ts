import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { AuthApiClient, AuthApiRejectedError, authApiPaths } from '../src/index.js'

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

/** A stand-in auth-api: public JWKS, and a credential check that accepts `accepted` only. */
async function start(accepted: string): Promise<AuthApiClient> {
  server = createServer((req, res) => {
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
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  client = new AuthApiClient({ baseUrl: `http://127.0.0.1:${address.port}`, credential })
  return client
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
