import type { AuthApiClient } from '@users-auth/auth-contract'
import type { Database } from '../db/database.js'
import type { LoginThrottle } from '../throttle/login-throttle.js'
import type { PasswordPolicy } from './password-policy.js'

export interface DomainDeps {
  db: Database
  authApi: AuthApiClient
  /** Injected clock. */
  now: () => Date
  refreshTokenTtlMs: number
  passwordPolicy: PasswordPolicy
  /** Per-account lockout for every password check. */
  throttle: LoginThrottle
}

/** What the domain needs to know about the request it serves. */
export interface RequestContext {
  requestId: string
  userAgent: string
  ip: string
}
