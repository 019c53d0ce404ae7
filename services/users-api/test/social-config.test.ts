import { ConfigError } from '@users-auth/service-kit'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.js'

const production = {
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://db/users',
  INTERNAL_API_TOKEN: 'x'.repeat(32),
  // Mail is required in production too; these tests are about the social login settings.
  SMTP_URL: 'smtps://mail.example.com',
  APP_URL: 'https://app.example.com',
}
const google = {
  OAUTH_PROVIDERS: 'google',
  OIDC_GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com',
  OIDC_GOOGLE_CLIENT_SECRET: 'secret',
  OAUTH_REDIRECT_URLS: 'https://app.example.com/oauth',
}

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('the configuration was accepted')
}

describe('social login configuration', () => {
  it('has no providers by default', () => {
    expect(loadConfig({}).social).toEqual({
      publicUrl: 'http://127.0.0.1:3000',
      redirectUrls: [],
      httpTimeoutMs: 5000,
      providers: [],
    })
  })

  it('needs nothing more in production without providers', () => {
    expect(loadConfig(production).social.providers).toEqual([])
  })

  it('knows the presets and reads a generic issuer', () => {
    const { social } = loadConfig({
      ...production,
      PUBLIC_URL: 'https://api.example.com/',
      OAUTH_PROVIDERS: 'google, kakao,github,corp',
      OIDC_GOOGLE_CLIENT_ID: 'g',
      OIDC_GOOGLE_CLIENT_SECRET: 'gs',
      OIDC_KAKAO_CLIENT_ID: 'k',
      OIDC_KAKAO_CLIENT_SECRET: 'ks',
      OIDC_GITHUB_CLIENT_ID: 'h',
      OIDC_GITHUB_CLIENT_SECRET: 'hs',
      OIDC_CORP_ISSUER: 'https://login.corp.example.com/realms/staff',
      OIDC_CORP_CLIENT_ID: 'c',
      OIDC_CORP_CLIENT_SECRET: 'cs',
      OIDC_CORP_NAME: 'Corp SSO',
      OAUTH_REDIRECT_URLS: 'https://App.Example.com:443/oauth',
    })
    expect(social.publicUrl).toBe('https://api.example.com')
    expect(social.redirectUrls).toEqual(['https://app.example.com/oauth'])
    expect(social.providers).toEqual([
      expect.objectContaining({
        id: 'google',
        kind: 'oidc',
        issuer: 'https://accounts.google.com',
      }),
      expect.objectContaining({ id: 'kakao', kind: 'oidc', issuer: 'https://kauth.kakao.com' }),
      expect.objectContaining({
        id: 'github',
        kind: 'github',
        oauthUrl: 'https://github.com/login/oauth',
        apiUrl: 'https://api.github.com',
        scopes: 'read:user user:email',
      }),
      expect.objectContaining({
        id: 'corp',
        name: 'Corp SSO',
        issuer: 'https://login.corp.example.com/realms/staff',
        scopes: 'openid email profile',
      }),
    ])
  })

  it('refuses to start with a missing piece, naming it', () => {
    expect(refusal({ ...google, OIDC_GOOGLE_CLIENT_SECRET: '' })).toMatch(
      /OIDC_GOOGLE_CLIENT_SECRET is required/,
    )
    expect(refusal({ ...google, OAUTH_PROVIDERS: 'corp', OIDC_CORP_CLIENT_ID: 'c' })).toMatch(
      /OIDC_CORP_CLIENT_SECRET|OIDC_CORP_ISSUER/,
    )
    expect(
      refusal({
        OAUTH_PROVIDERS: 'corp',
        OIDC_CORP_CLIENT_ID: 'c',
        OIDC_CORP_CLIENT_SECRET: 's',
        OAUTH_REDIRECT_URLS: 'https://app.example.com/oauth',
      }),
    ).toMatch(/OIDC_CORP_ISSUER is required/)
    expect(refusal({ ...google, OAUTH_REDIRECT_URLS: '' })).toMatch(/OAUTH_REDIRECT_URLS/)
    expect(refusal({ ...production, ...google })).toMatch(/PUBLIC_URL is required in production/)
    expect(refusal({ ...google, OAUTH_PROVIDERS: 'my-idp' })).toMatch(/not a provider id/)
    expect(refusal({ ...google, OAUTH_PROVIDERS: 'google,google' })).toMatch(/twice/)
    expect(refusal({ ...google, OIDC_GOOGLE_SCOPES: 'email' })).toMatch(/must include openid/)
  })

  it('allows plain http only to loopback addresses, and never in production', () => {
    const local = {
      ...google,
      OAUTH_PROVIDERS: 'corp',
      OIDC_CORP_ISSUER: 'http://127.0.0.1:9000',
      OIDC_CORP_CLIENT_ID: 'c',
      OIDC_CORP_CLIENT_SECRET: 's',
    }
    expect(loadConfig(local).social.providers[0]).toMatchObject({ allowHttp: true })
    expect(refusal({ ...local, OIDC_CORP_ISSUER: 'http://idp.example.com' })).toMatch(/https/)
    expect(refusal({ ...production, ...local, PUBLIC_URL: 'https://api.example.com' })).toMatch(
      /OIDC_CORP_ISSUER must use https/,
    )
    expect(
      refusal({
        ...production,
        ...google,
        PUBLIC_URL: 'https://api.example.com',
        OAUTH_REDIRECT_URLS: 'http://localhost:5173/oauth',
      }),
    ).toMatch(/OAUTH_REDIRECT_URLS must use https/)
    expect(refusal({ ...google, OAUTH_REDIRECT_URLS: 'https://app.example.com/oauth#x' })).toMatch(
      /fragment/,
    )
  })
})
