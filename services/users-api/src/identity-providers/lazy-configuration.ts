import type * as oidc from 'openid-client'
import { classifyProviderError } from './provider-errors.js'

/**
 * A provider's client configuration, made on first use and kept once made, so users-api starts
 * while a provider is down. Concurrent callers share one attempt; a failed attempt is
 * forgotten, so the next request tries again (each attempt bounded by the HTTP timeout).
 */
export function lazyConfiguration(
  make: () => Promise<oidc.Configuration>,
): () => Promise<oidc.Configuration> {
  let made: oidc.Configuration | undefined
  let pending: Promise<oidc.Configuration> | undefined
  return () => {
    if (made) return Promise.resolve(made)
    pending ??= make().then(
      (configuration) => {
        made = configuration
        pending = undefined
        return configuration
      },
      (error: unknown) => {
        pending = undefined
        throw classifyProviderError(error)
      },
    )
    return pending
  }
}
