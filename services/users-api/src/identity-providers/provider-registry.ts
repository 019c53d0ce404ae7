import type { SocialConfig } from '../social-config.js'
import { githubProvider } from './github-provider-client.js'
import type { IdentityProvider } from './identity-provider.js'
import { oidcProvider } from './oidc-provider-client.js'

/** The configured providers by id, in the order OAUTH_PROVIDERS lists them. */
export function createProviderRegistry(config: SocialConfig): Map<string, IdentityProvider> {
  return new Map(
    config.providers.map((provider) => [
      provider.id,
      provider.kind === 'github'
        ? githubProvider(provider, config.httpTimeoutMs)
        : oidcProvider(provider, config.httpTimeoutMs),
    ]),
  )
}
