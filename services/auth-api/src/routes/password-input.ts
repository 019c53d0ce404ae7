import { maxPasswordBytes } from '@users-auth/auth-contract'
import { withRetryAfter } from '@users-auth/service-kit'
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
