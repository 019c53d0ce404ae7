import * as oidc from 'openid-client'

/** The provider could not be reached or answered with a server error, or too slowly. */
export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError'
}

/** The provider answered the authorization request with an OAuth error (e.g. access_denied). */
export class ProviderDeniedError extends Error {
  override name = 'ProviderDeniedError'
  constructor(readonly oauthError: string) {
    super(`the provider answered ${oauthError}`)
  }
}

/** The provider's answer failed validation (state, PKCE, ID token, claims, API shapes). */
export class ProviderResponseError extends Error {
  override name = 'ProviderResponseError'
}

function isUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 5 || !(error instanceof Error || error instanceof DOMException)) return false
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true
  // undici's network failures: "fetch failed" with the socket error as cause.
  if (error instanceof TypeError && error.message === 'fetch failed') return true
  if (error instanceof oidc.ResponseBodyError) return error.status >= 500
  if (error instanceof oidc.ClientError && error.cause instanceof Response) {
    return error.cause.status >= 500
  }
  return isUnreachable((error as { cause?: unknown }).cause, depth + 1)
}

/** Sorts what openid-client (or a fetch) threw into the three kinds above. */
export function classifyProviderError(error: unknown): Error {
  if (
    error instanceof ProviderUnavailableError ||
    error instanceof ProviderDeniedError ||
    error instanceof ProviderResponseError
  ) {
    return error
  }
  if (isUnreachable(error))
    return new ProviderUnavailableError('provider unreachable', { cause: error })
  if (error instanceof oidc.AuthorizationResponseError) return new ProviderDeniedError(error.error)
  return new ProviderResponseError('provider answer refused', { cause: error })
}

/**
 * What may be logged of a provider failure: names, messages and codes down the cause chain,
 * never the causes' values (openid-client attaches the JWT it refused, the claims or the
 * provider's answer to its errors).
 */
export function describeProviderError(error: unknown): { reason: string } {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code
    parts.push(`${current.name}: ${current.message}${typeof code === 'string' ? ` (${code})` : ''}`)
    current = current.cause
  }
  return { reason: parts.join(' <- ') || String(error) }
}
