import { ConfigError, parseList, type Mode } from '@users-auth/service-kit'

/** An OpenID Connect provider, found by discovery from its issuer. */
export interface OidcProviderConfig {
  kind: 'oidc'
  id: string
  name: string
  issuer: string
  clientId: string
  clientSecret: string
  scopes: string
  /** Plain HTTP to a loopback issuer, outside production only (local providers in tests). */
  allowHttp: boolean
}

/** GitHub: OAuth 2 with PKCE, then its REST API for the user and the primary verified email. */
export interface GithubProviderConfig {
  kind: 'github'
  id: 'github'
  name: string
  /** Base of `/authorize` and `/access_token`. */
  oauthUrl: string
  /** Base of `/user` and `/user/emails`. */
  apiUrl: string
  clientId: string
  clientSecret: string
  scopes: string
  allowHttp: boolean
}

export type ProviderConfig = OidcProviderConfig | GithubProviderConfig

export interface SocialConfig {
  /** users-api's public base URL: redirect URIs are `${publicUrl}/v1/auth/oauth/{id}/callback`. */
  publicUrl: string
  /** Allowed `redirect_to` targets, normalised; matched exactly (query included). */
  redirectUrls: string[]
  /** Bound on every call to a provider (discovery, token, keys, user info). */
  httpTimeoutMs: number
  providers: ProviderConfig[]
}

interface Preset {
  name: string
  issuer: string
  scopes: string
}

// OpenID Connect presets: the issuer is known, the variables may still override it.
const oidcPresets: Record<string, Preset> = {
  google: { name: 'Google', issuer: 'https://accounts.google.com', scopes: 'openid email profile' },
  kakao: {
    name: 'Kakao',
    issuer: 'https://kauth.kakao.com',
    scopes: 'openid account_email profile_nickname',
  },
}

const providerId = /^[a-z][a-z0-9]{0,30}$/

/** The URL a WHATWG parser makes of `text`, or undefined. */
function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
}

/**
 * An http(s) URL a provider setting or redirect target may use: https, or (outside
 * production) http to a loopback address, without credentials.
 */
function checkedUrl(name: string, text: string, mode: Mode): URL {
  const url = parseUrl(text)
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError(`${name} must be an absolute http(s) URL`)
  }
  if (url.protocol === 'http:' && (mode === 'production' || !isLoopback(url))) {
    throw new ConfigError(
      `${name} must use https (plain http only to 127.0.0.1 or localhost outside production)`,
    )
  }
  if (url.username || url.password) throw new ConfigError(`${name} must not carry credentials`)
  return url
}

/**
 * A `redirect_to` as the allow-list compares it: the parser's normal form (lower-case host,
 * default port dropped), or undefined when it is not an absolute http(s) URL without
 * credentials and fragment. The query is kept: it is part of the match.
 */
export function normalizeRedirectUrl(text: string): string | undefined {
  const url = parseUrl(text)
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined
  if (url.username || url.password || url.hash || text.includes('#')) return undefined
  return url.href
}

/**
 * Social login settings from the environment. `OIDC_<ID>_*` names are dynamic, so they are
 * read and checked here rather than by the static schema; every missing piece stops start-up
 * with a message that names the variable.
 */
export function loadSocialConfig(
  env: Record<string, string | undefined>,
  settings: {
    mode: Mode
    publicUrl: string | undefined
    providers: string | undefined
    redirectUrls: string | undefined
    httpTimeoutMs: number
  },
): SocialConfig {
  const { mode } = settings
  const ids = parseList(settings.providers).map((id) => id.toLowerCase())
  for (const id of ids) {
    if (!providerId.test(id)) {
      throw new ConfigError(
        `OAUTH_PROVIDERS: "${id}" is not a provider id (a letter, then letters or digits)`,
      )
    }
  }
  if (new Set(ids).size !== ids.length) throw new ConfigError('OAUTH_PROVIDERS lists an id twice')
  if (ids.length > 0 && mode === 'production' && !settings.publicUrl) {
    throw new ConfigError('PUBLIC_URL is required in production when OAUTH_PROVIDERS is set')
  }
  // The development default is never used in production with providers (refused above).
  const publicUrl = settings.publicUrl
    ? checkedUrl('PUBLIC_URL', settings.publicUrl, mode)
    : new URL('http://127.0.0.1:3000')
  if (publicUrl.search || publicUrl.hash) {
    throw new ConfigError('PUBLIC_URL must be a base URL without query or fragment')
  }
  const redirectUrls = parseList(settings.redirectUrls).map((text) => {
    checkedUrl('OAUTH_REDIRECT_URLS', text, mode)
    const normal = normalizeRedirectUrl(text)
    if (!normal) throw new ConfigError(`OAUTH_REDIRECT_URLS: "${text}" must have no fragment`)
    return normal
  })
  if (ids.length > 0 && redirectUrls.length === 0) {
    throw new ConfigError(
      'OAUTH_REDIRECT_URLS must list at least one URL when OAUTH_PROVIDERS is set',
    )
  }

  const providers = ids.map((id): ProviderConfig => {
    const prefix = `OIDC_${id.toUpperCase()}_`
    const read = (suffix: string): string | undefined => {
      const value = env[prefix + suffix]?.trim()
      return value === '' ? undefined : value
    }
    const required = (suffix: string): string => {
      const value = read(suffix)
      if (!value) throw new ConfigError(`${prefix}${suffix} is required (provider "${id}")`)
      return value
    }
    const clientId = required('CLIENT_ID')
    const clientSecret = required('CLIENT_SECRET')
    if (id === 'github') {
      const oauthUrl = checkedUrl(
        `${prefix}OAUTH_URL`,
        read('OAUTH_URL') ?? 'https://github.com/login/oauth',
        mode,
      )
      const apiUrl = checkedUrl(
        `${prefix}API_URL`,
        read('API_URL') ?? 'https://api.github.com',
        mode,
      )
      return {
        kind: 'github',
        id,
        name: read('NAME') ?? 'GitHub',
        oauthUrl: oauthUrl.href.replace(/\/$/, ''),
        apiUrl: apiUrl.href.replace(/\/$/, ''),
        clientId,
        clientSecret,
        scopes: read('SCOPES') ?? 'read:user user:email',
        allowHttp: oauthUrl.protocol === 'http:' || apiUrl.protocol === 'http:',
      }
    }
    const preset = oidcPresets[id]
    const issuerText = read('ISSUER') ?? preset?.issuer
    if (!issuerText) throw new ConfigError(`${prefix}ISSUER is required (provider "${id}")`)
    const issuer = checkedUrl(`${prefix}ISSUER`, issuerText, mode)
    const scopes = read('SCOPES') ?? preset?.scopes ?? 'openid email profile'
    if (!scopes.split(/\s+/).includes('openid')) {
      throw new ConfigError(`${prefix}SCOPES must include openid`)
    }
    return {
      kind: 'oidc',
      id,
      name: read('NAME') ?? preset?.name ?? id,
      // The issuer exactly as configured: discovery compares it with the document's `issuer`.
      issuer: issuerText,
      clientId,
      clientSecret,
      scopes,
      allowHttp: issuer.protocol === 'http:',
    }
  })
  return {
    publicUrl: publicUrl.href.replace(/\/$/, ''),
    redirectUrls,
    httpTimeoutMs: settings.httpTimeoutMs,
    providers,
  }
}
