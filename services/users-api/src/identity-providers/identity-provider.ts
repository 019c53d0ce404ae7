/** Who the provider says signed in. */
export interface ProviderProfile {
  /** The provider's stable id for the user (`sub`, GitHub's numeric id). */
  subject: string
  /** As the provider gave it; absent when it gave none. */
  email?: string
  /** True only when the provider asserted that the address is verified. */
  emailVerified: boolean
  name?: string
}

/** What one authorization round trip needs remembered between start and callback. */
export interface AuthorizationChecks {
  state: string
  /** OpenID Connect only. */
  nonce?: string
  codeVerifier: string
}

/** A configured provider: builds the authorization URL and turns its callback into a profile. */
export interface IdentityProvider {
  id: string
  name: string
  /** Whether the provider's ID token carries a nonce to check (OpenID Connect). */
  usesNonce: boolean
  authorizationUrl(redirectUri: string, checks: AuthorizationChecks): Promise<URL>
  /** `callbackUrl` is the redirect URI with the provider's query parameters. */
  complete(callbackUrl: URL, checks: AuthorizationChecks): Promise<ProviderProfile>
}

/** Providers variously send the flag as a boolean or a string. */
export function assertedTrue(value: unknown): boolean {
  return value === true || value === 'true'
}

/** A bounded, trimmed string from an untrusted claim, or undefined. */
export function claimString(value: unknown, maxLength: number): string | undefined {
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed.length > 0 && trimmed.length <= maxLength ? trimmed : undefined
}
