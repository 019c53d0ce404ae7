import * as oidc from 'openid-client'
import type { OidcProviderConfig } from '../social-config.js'
import {
  assertedTrue,
  claimString,
  type AuthorizationChecks,
  type IdentityProvider,
  type ProviderProfile,
} from './identity-provider.js'
import { classifyProviderError, ProviderResponseError } from './provider-errors.js'
import { lazyConfiguration } from './lazy-configuration.js'

/**
 * Any OpenID Connect issuer, found by discovery on first use. openid-client does the
 * protocol: PKCE, state, the `iss` response parameter, and the ID token's signature (the
 * issuer's JWKS), `iss`, `aud`, `exp` and `nonce`.
 */
export function oidcProvider(config: OidcProviderConfig, timeoutMs: number): IdentityProvider {
  const configuration = lazyConfiguration(() =>
    oidc.discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
      timeout: timeoutMs / 1000,
      execute: [
        // The contract asks for the ID token's signature to be checked against the issuer's
        // keys, beyond what TLS to the token endpoint already vouches for.
        oidc.enableNonRepudiationChecks,
        // Loopback issuers outside production only (config refuses anything else).
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- loopback issuers only
        ...(config.allowHttp ? [oidc.allowInsecureRequests] : []),
      ],
    }),
  )

  return {
    id: config.id,
    name: config.name,
    usesNonce: true,

    async authorizationUrl(redirectUri: string, checks: AuthorizationChecks): Promise<URL> {
      const client = await configuration()
      return oidc.buildAuthorizationUrl(client, {
        redirect_uri: redirectUri,
        scope: config.scopes,
        state: checks.state,
        nonce: checks.nonce ?? '',
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
      })
    },

    async complete(callbackUrl: URL, checks: AuthorizationChecks): Promise<ProviderProfile> {
      const client = await configuration()
      try {
        const tokens = await oidc.authorizationCodeGrant(client, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce ?? '',
          idTokenExpected: true,
        })
        const claims = tokens.claims()
        if (!claims) throw new ProviderResponseError('no ID token')
        let source: Record<string, unknown> = claims
        // Some issuers (Kakao) put the address's verification only in the UserInfo answer;
        // openid-client checks that it speaks of the same subject.
        if (
          typeof claims.email_verified === 'undefined' &&
          client.serverMetadata().userinfo_endpoint
        ) {
          source = {
            ...(await oidc.fetchUserInfo(client, tokens.access_token, claims.sub)),
            ...claims,
          }
        }
        const email = claimString(source.email, 254)
        const name = claimString(source.name, 100) ?? claimString(source.nickname, 100)
        return {
          subject: claims.sub,
          ...(email ? { email } : {}),
          emailVerified: email !== undefined && assertedTrue(source.email_verified),
          ...(name ? { name } : {}),
        }
      } catch (error) {
        throw classifyProviderError(error)
      }
    },
  }
}
