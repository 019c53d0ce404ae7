import * as oidc from 'openid-client'
import type { GithubProviderConfig } from '../social-config.js'
import {
  claimString,
  type AuthorizationChecks,
  type IdentityProvider,
  type ProviderProfile,
} from './identity-provider.js'
import {
  classifyProviderError,
  ProviderResponseError,
  ProviderUnavailableError,
} from './provider-errors.js'
import { lazyConfiguration } from './lazy-configuration.js'

interface GithubUser {
  id: number
  login: string
  name: string | null
}

interface GithubEmail {
  email: string
  primary: boolean
  verified: boolean
}

function isGithubUser(value: unknown): value is GithubUser {
  const user = value as Partial<GithubUser> | null
  return (
    typeof user === 'object' &&
    user !== null &&
    Number.isSafeInteger(user.id) &&
    typeof user.login === 'string'
  )
}

function isEmailList(value: unknown): value is GithubEmail[] {
  return (
    Array.isArray(value) &&
    value.every((entry: Partial<GithubEmail> | null) => typeof entry?.email === 'string')
  )
}

/**
 * GitHub: plain OAuth 2 (no ID token) with PKCE, then its REST API: `GET /user` for the stable
 * numeric id and `GET /user/emails` for the addresses, of which only the primary one, and
 * only when GitHub has verified it, is taken.
 */
export function githubProvider(config: GithubProviderConfig, timeoutMs: number): IdentityProvider {
  const configuration = lazyConfiguration(() => {
    const client = new oidc.Configuration(
      {
        issuer: config.oauthUrl,
        authorization_endpoint: `${config.oauthUrl}/authorize`,
        token_endpoint: `${config.oauthUrl}/access_token`,
      },
      config.clientId,
      config.clientSecret,
    )
    client.timeout = timeoutMs / 1000
    // Loopback stand-ins outside production only (config refuses anything else).
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- loopback stand-ins only
    if (config.allowHttp) oidc.allowInsecureRequests(client)
    return Promise.resolve(client)
  })

  async function api(
    client: oidc.Configuration,
    accessToken: string,
    path: string,
  ): Promise<unknown> {
    const response = await oidc.fetchProtectedResource(
      client,
      accessToken,
      new URL(`${config.apiUrl}${path}`),
      'GET',
      undefined,
      new Headers({
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
      }),
    )
    if (response.status >= 500)
      throw new ProviderUnavailableError(`GitHub ${path} answered ${response.status}`)
    if (!response.ok) throw new ProviderResponseError(`GitHub ${path} answered ${response.status}`)
    return response.json()
  }

  return {
    id: config.id,
    name: config.name,
    usesNonce: false,

    async authorizationUrl(redirectUri: string, checks: AuthorizationChecks): Promise<URL> {
      const client = await configuration()
      return oidc.buildAuthorizationUrl(client, {
        redirect_uri: redirectUri,
        scope: config.scopes,
        state: checks.state,
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
        allow_signup: 'true',
      })
    },

    async complete(callbackUrl: URL, checks: AuthorizationChecks): Promise<ProviderProfile> {
      const client = await configuration()
      try {
        const tokens = await oidc.authorizationCodeGrant(client, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
        })
        const user = await api(client, tokens.access_token, '/user')
        const emails = await api(client, tokens.access_token, '/user/emails')
        if (!isGithubUser(user) || !isEmailList(emails)) {
          throw new ProviderResponseError('unexpected GitHub API answer')
        }
        const primary = emails.find((entry) => entry.primary && entry.verified)
        const email = claimString(primary?.email, 254)
        const name = claimString(user.name, 100) ?? claimString(user.login, 100)
        return {
          subject: String(user.id),
          ...(email ? { email } : {}),
          emailVerified: email !== undefined,
          ...(name ? { name } : {}),
        }
      } catch (error) {
        throw classifyProviderError(error)
      }
    },
  }
}
