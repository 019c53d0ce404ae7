import { maxPasswordBytes } from '@users-auth/auth-contract'
import { withRetryAfter } from '@users-auth/service-kit'
import type { onRequestHookHandler } from 'fastify'
import type { PasswordHasher } from '../crypto/password-hasher.js'
import { UnusableHashError } from '../crypto/stored-hash.js'
import { QueueFullError } from '../crypto/work-queue.js'
import { HashingBusy, MalformedHash, MalformedPassword, PasswordTooLong } from '../errors.js'

// A surrogate outside a pair, what `String.prototype.isWellFormed` refuses (ES2024, not in our lib).
const loneSurrogate = /\p{Cs}/u

/** Lone surrogates become U+FFFD in UTF-8, so two different passwords would hash alike. */
export function assertUsablePassword(password: string): void {
  if (loneSurrogate.test(password)) throw new MalformedPassword()
  if (Buffer.byteLength(password, 'utf8') > maxPasswordBytes) throw new PasswordTooLong()
}

/** Hashing failures as the contract names them: a full queue is 503, a foreign hash is 400. */
export function hashingFailure(error: unknown): never {
  if (error instanceof QueueFullError)
    throw withRetryAfter(new HashingBusy(), error.retryAfterSeconds)
  if (error instanceof UnusableHashError) throw new MalformedHash()
  throw error
}

/**
 * Refuses a request with 503 + Retry-After before its body is read when the hashing queue would
 * not start its job within the wait budget: under overload a refusal costs almost nothing.
 */
export function refuseWhenBusy(hasher: PasswordHasher): onRequestHookHandler {
  return (_request, _reply, done) => {
    const refusal = hasher.busy()
    done(refusal ? withRetryAfter(new HashingBusy(), refusal.retryAfterSeconds) : undefined)
  }
}
