import { ConfigError } from '@users-auth/service-kit'
import { describe, expect, it } from 'vitest'
import { developmentCredential } from '@users-auth/auth-contract'
import { loadConfig } from '../src/config.js'

describe('loadConfig', () => {
  it('runs with no configuration at all in development', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      mode: 'development',
      port: 4000,
      host: '0.0.0.0',
      credentials: [developmentCredential],
      accessTokenTtlSeconds: 900,
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
    })
    expect(config.hashing.concurrency).toBe(config.hashing.threads)
  })

  it('admits hashing jobs by a wait budget, by default and at most the queue timeout', () => {
    expect(loadConfig({}).hashing).toMatchObject({ queueTimeoutMs: 500, queueBudgetMs: 500 })
    expect(loadConfig({ HASH_QUEUE_TIMEOUT_MS: '100' }).hashing.queueBudgetMs).toBe(100)
    expect(loadConfig({ HASH_QUEUE_BUDGET_MS: '40' }).hashing.queueBudgetMs).toBe(40)
    expect(
      loadConfig({ HASH_QUEUE_BUDGET_MS: '900', HASH_QUEUE_TIMEOUT_MS: '600' }).hashing
        .queueBudgetMs,
    ).toBe(600)
    expect(() => loadConfig({ HASH_QUEUE_BUDGET_MS: '-1' })).toThrow(ConfigError)
    // A Node timer cannot hold more than 2^31 - 1 ms: beyond it, it would fire at once.
    expect(() => loadConfig({ HASH_QUEUE_TIMEOUT_MS: '2147483648' })).toThrow(ConfigError)
    expect(() => loadConfig({ HASH_QUEUE_BUDGET_MS: '600001' })).toThrow(ConfigError)
  })

  it('refuses to start in production without keys or a strong credential', () => {
    const keys = '{"keys":[]}'
    const strong = 'x'.repeat(32)
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_PRIVATE_KEYS: keys })).toThrow(
      /INTERNAL_API_TOKEN is required/,
    )
    expect(() => loadConfig({ NODE_ENV: 'production', INTERNAL_API_TOKEN: strong })).toThrow(
      /JWT_PRIVATE_KEYS is required/,
    )
    expect(() =>
      loadConfig({ NODE_ENV: 'production', INTERNAL_API_TOKEN: 'short', JWT_PRIVATE_KEYS: keys }),
    ).toThrow(/at least 32/)
    expect(
      loadConfig({
        NODE_ENV: 'production',
        INTERNAL_API_TOKEN: strong,
        JWT_PRIVATE_KEYS: keys,
        TOTP_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      }).credentials,
    ).toEqual([strong])
  })

  it('reports malformed values clearly', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError)
    expect(() => loadConfig({ ARGON2_MEMORY_KIB: '10' })).toThrow(/ARGON2_MEMORY_KIB/)
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: 'forever' })).toThrow(/Invalid duration/)
  })
})
