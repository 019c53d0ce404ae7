import type { AuthApiClient } from '@users-auth/auth-contract'
import type { Database } from '../db/database.js'
import type { LoginThrottle } from '../throttle/login-throttle.js'
import type { Audit } from './audit.js'
import type { PasswordPolicy } from './password-policy.js'

export interface DomainDeps {
  db: Database
  authApi: AuthApiClient
  /** Injected clock. */
  now: () => Date
  /** Idle lifetime of a session: each refresh moves its end on by this much. */
  refreshTokenTtlMs: number
  /** Absolute lifetime of a session from its login, however often it is refreshed. */
  sessionMaxLifetimeMs: number
  /** How long the token a rotation retired still gets that rotation's answer; 0 is off. */
  refreshReuseGraceMs: number
  passwordPolicy: PasswordPolicy
  /** Per-account lockout for every password check. */
  throttle: LoginThrottle
  /** Per-account budget for second-factor codes, apart from the password lockout. */
  codeThrottle: LoginThrottle
  /** The issuer name an authenticator app shows beside the account. */
  totpIssuer: string
  /** Where every event of the contract's audit list is recorded. */
  audit: Audit
}

/** What the domain needs to know about the request it serves. */
export interface RequestContext {
  requestId: string
  userAgent: string
  ip: string
}
