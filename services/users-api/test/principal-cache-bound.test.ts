import { describe, expect, it } from 'vitest'
import type { PrincipalStamps } from '../src/db/principal-stamps.js'
import { createPrincipalCache } from '../src/domain/principal-cache.js'

// Stamps that never change: every entry stays valid, so only the bound evicts.
const steadyStamps: PrincipalStamps = {
  read: () => Promise.resolve({ user: 'u', session: 's', connection: 1 }),
  invalidate: () => Promise.resolve(),
  around: (_stale, write) => write(),
}

describe('principal cache bound', () => {
  it('keeps at most maxEntries, making room by the least recently used', async () => {
    const cache = createPrincipalCache<string>(steadyStamps, {
      maxEntries: 3,
      maxLifetimeMs: 3_600_000,
      maxAgeMs: 60_000,
    })
    const now = new Date()
    const reads: string[] = []
    const resolve = (sessionId: string) =>
      cache.resolve(sessionId, 'user', now, () => {
        reads.push(sessionId)
        return Promise.resolve({
          expiresAt: new Date(now.getTime() + 60_000),
          createdAt: now,
          found: sessionId,
        })
      })
    for (const id of ['a', 'b', 'c']) await resolve(id)
    await resolve('a') // a is now the most recently used; b the least
    await resolve('d') // makes room: b goes
    expect(reads).toEqual(['a', 'b', 'c', 'd'])
    for (const id of ['a', 'c', 'd']) expect(await resolve(id)).toBe(id)
    expect(reads).toEqual(['a', 'b', 'c', 'd'])
    await resolve('b')
    expect(reads).toEqual(['a', 'b', 'c', 'd', 'b'])
  })
})
