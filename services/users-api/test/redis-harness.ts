import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'

/**
 * The machine's Redis for a test file: it fails loudly when Redis is not there, each test works
 * under a key prefix of its own, and only that prefix's keys are deleted after each test. Call
 * it before the file's own `afterEach`, so that hook (closing the services) runs first.
 */
export function testRedis(label: string) {
  const url = 'redis://127.0.0.1:6379'
  let client: Redis | undefined
  let prefix = ''
  beforeAll(async () => {
    client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000 })
    expect(await client.ping()).toBe('PONG')
  })
  afterAll(() => {
    client?.disconnect()
  })
  afterEach(async () => {
    if (!client) return
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
  })
  return {
    url,
    get client(): Redis {
      if (!client) throw new Error('Redis is connected in beforeAll')
      return client
    },
    get prefix(): string {
      return prefix
    },
    /** Starts a fresh prefix for the test under way and returns it. */
    newPrefix(): string {
      prefix = `test:users-auth:${label}${randomUUID()}:`
      return prefix
    },
  }
}
