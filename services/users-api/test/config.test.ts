import { developmentCredential } from '@users-auth/auth-contract'
import { ConfigError } from '@users-auth/service-kit'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'

describe('users-api config', () => {
  it('runs with no configuration in development', () => {
    expect(loadConfig({})).toMatchObject({
      mode: 'development',
      port: 3000,
      mongodbUri: undefined,
      authApi: {
        url: 'http://127.0.0.1:4000',
        credential: developmentCredential,
        deadlineMs: 2000,
        connectTimeoutMs: 1000,
      },
      refreshTokenTtlMs: 30 * 86_400_000,
      sessionMaxLifetimeMs: 90 * 86_400_000,
      refreshReuseGraceMs: 0,
      passwordMinLength: 15,
      trustedProxies: [],
      corsOrigins: [],
    })
  })

  it('refuses to start in production without MongoDB or a strong credential', () => {
    expect(() =>
      loadConfig({ NODE_ENV: 'production', INTERNAL_API_TOKEN: 'x'.repeat(32) }),
    ).toThrow(/MONGODB_URI/)
    expect(() => loadConfig({ NODE_ENV: 'production', MONGODB_URI: 'mongodb://db' })).toThrow(
      /INTERNAL_API_TOKEN/,
    )
  })

  it('never allows a password minimum below 8, nor CORS for every origin', () => {
    expect(() => loadConfig({ PASSWORD_MIN_LENGTH: '7' })).toThrow(ConfigError)
    expect(loadConfig({ PASSWORD_MIN_LENGTH: '8' }).passwordMinLength).toBe(8)
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/)
    expect(
      loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example'])
  })

  it('takes an absolute session lifetime and a short reuse grace', () => {
    expect(loadConfig({ SESSION_MAX_LIFETIME: '7d', REFRESH_REUSE_GRACE: '10s' })).toMatchObject({
      sessionMaxLifetimeMs: 7 * 86_400_000,
      refreshReuseGraceMs: 10_000,
    })
    expect(() => loadConfig({ SESSION_MAX_LIFETIME: '0s' })).toThrow(/SESSION_MAX_LIFETIME/)
    expect(() => loadConfig({ REFRESH_REUSE_GRACE: '5m' })).toThrow(/REFRESH_REUSE_GRACE/)
  })
})
