import { createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto'
import { AuthApiClient, AuthApiUnavailableError, type Jwks } from '@users-auth/auth-contract'
import { captureLogs, createLogger } from '@users-auth/service-kit'
import { createAuthApi } from 'auth-api/create'
import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest'
import { JwksCache } from '../src/auth/jwks-cache.js'
import { FaultProxy } from './fault-proxy.js'

// The cache against the real auth-api over HTTP. A proxy in front stands for what changes
// under a running users-api: auth-api rolled out with another key set, or unreachable.

const credential = 'jwks-test-credential-0123456789abcdef0123'
const minRefetchMs = 5000

function privateJwk(kid: string): JsonWebKey {
  const { privateKey } = generateKeyPairSync('ed25519')
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }
}

const servers: FastifyInstance[] = []

/** A real auth-api publishing `keys` (the first signs), listening on an ephemeral port. */
async function authApiWith(keys: JsonWebKey[]): Promise<string> {
  const { app } = await createAuthApi(
    {
      NODE_ENV: 'test',
      INTERNAL_API_TOKEN: credential,
      ARGON2_MEMORY_KIB: '1024',
      ARGON2_ITERATIONS: '1',
      JWT_PRIVATE_KEYS: JSON.stringify({ keys }),
    },
    { logger: createLogger({ level: 'warn', stream: captureLogs().stream }) },
  )
  servers.push(app)
  return app.listen({ port: 0, host: '127.0.0.1' })
}

const kids = (jwks: Jwks | undefined) => (jwks?.keys ?? []).map((k) => k.kid).sort()

const oldKey = privateJwk('old')
const newKey = privateJwk('new')

let proxy: FaultProxy
let client: AuthApiClient
let fetches: MockInstance<AuthApiClient['getJwks']>
let clock: number
let cache: JwksCache

beforeEach(async () => {
  proxy = new FaultProxy({ host: '127.0.0.1', port: 1 })
  proxy.retarget(await authApiWith([oldKey]))
  client = new AuthApiClient({
    baseUrl: await proxy.start(),
    credential,
    connectTimeoutMs: 500,
    deadlineMs: 1000,
  })
  // Counts the calls; each still goes to auth-api.
  fetches = vi.spyOn(client, 'getJwks')
  clock = 1_000_000
  cache = new JwksCache(client, { minRefetchMs, refreshEveryMs: 60_000, now: () => clock })
})

afterEach(async () => {
  cache.stop()
  await client.close()
  await proxy.stop()
  await Promise.all(servers.splice(0).map((app) => app.close()))
})

/** Closes the client's open connections, and lets the client see them close before its next call. */
async function cut(): Promise<void> {
  proxy.cut()
  await new Promise((resolve) => setTimeout(resolve, 50))
}

/** auth-api rolled out with another key set: the client's next connection reaches it. */
async function rollOut(keys: JsonWebKey[]): Promise<void> {
  proxy.retarget(await authApiWith(keys))
  await cut()
}

describe('JwksCache', () => {
  it('serves the keys it has from memory, without asking auth-api again', async () => {
    await cache.refresh()
    const pem = await cache.keyFor('old')
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    // The very key auth-api signs with, public half only.
    expect(createPublicKey(pem ?? '').export({ format: 'jwk' }).x).toBe(oldKey.x)
    expect(cache.current?.keys.map((k) => Object.keys(k).includes('d'))).toEqual([false])

    clock += 10 * minRefetchMs
    for (let i = 0; i < 20; i++) expect(await cache.keyFor('old')).toBe(pem)
    expect(fetches).toHaveBeenCalledTimes(1)
  })

  it('fetches again for an unknown kid and finds a newly published key', async () => {
    await cache.refresh()
    await rollOut([oldKey, newKey])
    clock += minRefetchMs
    expect(await cache.keyFor('new')).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(kids(cache.current)).toEqual(['new', 'old'])
    expect(fetches).toHaveBeenCalledTimes(2)
  })

  it('asks auth-api at most once per minRefetchMs, however many unknown kids arrive', async () => {
    await cache.refresh()
    // Right after a fetch, an unknown kid is simply unknown.
    expect(await cache.keyFor(randomUUID())).toBeUndefined()
    expect(fetches).toHaveBeenCalledTimes(1)

    clock += minRefetchMs
    const forged = Array.from({ length: 50 }, () => cache.keyFor(randomUUID()))
    expect(await Promise.all(forged)).toEqual(Array(50).fill(undefined))
    expect(fetches).toHaveBeenCalledTimes(2)

    clock += minRefetchMs - 1
    expect(await cache.keyFor(randomUUID())).toBeUndefined()
    expect(fetches).toHaveBeenCalledTimes(2)
    clock += 1
    expect(await cache.keyFor(randomUUID())).toBeUndefined()
    expect(fetches).toHaveBeenCalledTimes(3)
  })

  it('finds a new key for every lookup that arrives while it is being fetched', async () => {
    await cache.refresh()
    await rollOut([newKey, oldKey])
    clock += minRefetchMs
    // Right after a switch, many requests carry the new kid at once.
    const lookups = await Promise.all(Array.from({ length: 5 }, () => cache.keyFor('new')))
    for (const pem of lookups) expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(fetches).toHaveBeenCalledTimes(2)
  })

  it('keeps the keys it has when a refresh fails, and recovers', async () => {
    await cache.refresh()
    proxy.mode = 'refuse'
    await cut()
    clock += minRefetchMs
    await expect(cache.refresh()).rejects.toThrow(AuthApiUnavailableError)
    expect(kids(cache.current)).toEqual(['old'])
    expect(await cache.keyFor('old')).toMatch(/^-----BEGIN PUBLIC KEY-----/)

    // An unknown kid while auth-api is down is a dependency failure (503), not a forged token;
    // the failed attempt counts against the refetch bound too.
    clock += minRefetchMs
    await expect(cache.keyFor('new')).rejects.toThrow(AuthApiUnavailableError)
    const attempts = fetches.mock.calls.length
    expect(await cache.keyFor('other')).toBeUndefined()
    expect(fetches).toHaveBeenCalledTimes(attempts)

    proxy.mode = 'forward'
    await rollOut([oldKey, newKey])
    clock += minRefetchMs
    expect(await cache.keyFor('new')).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    expect(await cache.keyFor('old')).toMatch(/^-----BEGIN PUBLIC KEY-----/)
  })

  it('drops a retired key at the periodic refresh, and stops refreshing when stopped', async () => {
    const errors: unknown[] = []
    cache = new JwksCache(client, { minRefetchMs, refreshEveryMs: 100, now: () => clock })
    cache.start((error) => errors.push(error))
    await vi.waitFor(() => {
      expect(kids(cache.current)).toEqual(['old'])
    })
    expect(await cache.keyFor('old')).toBeDefined()
    expect(cache.has('old')).toBe(true)

    await rollOut([newKey])
    await vi.waitFor(
      () => {
        expect(kids(cache.current)).toEqual(['new'])
      },
      { timeout: 3000 },
    )
    // Within the refetch bound, so no fetch brings it back: tokens it signed are refused,
    // those verified before included (users-api's cache of verified tokens asks `has`).
    expect(await cache.keyFor('old')).toBeUndefined()
    expect(cache.has('old')).toBe(false)
    expect(errors).toEqual([])

    cache.stop()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const calls = fetches.mock.calls.length
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(fetches).toHaveBeenCalledTimes(calls)
  })
})
