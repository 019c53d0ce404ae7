import { createHash, randomBytes } from 'node:crypto'
import { mfaQueries } from '../db/mfa-queries.js'
import type { DomainDeps, RequestContext } from './deps.js'
import { versionOf, type SessionUser, type SignInMethod } from './sessions.js'

/** How long an mfaToken lives, and how many codes it may try. */
export const mfaTokenTtlMs = 5 * 60_000
export const mfaTokenMaxAttempts = 5

// Users stored before credential versions existed are at version 0, as sessions read them.

/** Tokens are stored and looked up only by this digest. */
export function hashMfaToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/**
 * The first half of a sign-in with a second factor: the password (or provider) was right, so
 * an mfaToken stands for it until a code completes it. Opaque, 256 bits, stored hashed, bound
 * to the account's credential version and to how the first step signed in.
 */
export function createMfaChallenges(deps: DomainDeps) {
  const store = mfaQueries(deps.db)
  return {
    async issue(user: SessionUser, method: SignInMethod, ctx: RequestContext): Promise<string> {
      const token = randomBytes(32).toString('base64url')
      await store.insertChallenge({
        _id: hashMfaToken(token),
        userId: user._id,
        amr: method.amr,
        credentialVersion: versionOf(user),
        attempts: 0,
        expiresAt: new Date(deps.now().getTime() + mfaTokenTtlMs),
      })
      await deps.audit.record({ event: 'mfa.challenge', outcome: 'success', userId: user._id }, ctx)
      return token
    },
  }
}

export type MfaChallenges = ReturnType<typeof createMfaChallenges>
