import { maxPasswordBytes } from '@users-auth/auth-contract'
import { withRetryAfter } from '@users-auth/service-kit'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { PasswordHasher } from '../../crypto/password-hasher.js'
import { UnusableHashError } from '../../crypto/stored-hash.js'
import { QueueFullError } from '../../crypto/work-queue.js'
import { HashingBusy, MalformedHash, MalformedPassword, PasswordTooLong } from '../../errors.js'
import { hashRoute, verifyRoute } from './schemas.js'

export interface PasswordRoutesOptions {
  hasher: PasswordHasher
}

// A surrogate outside a pair, what `String.prototype.isWellFormed` refuses (ES2024, not in our lib).
const loneSurrogate = /\p{Cs}/u

// Lone surrogates become U+FFFD in UTF-8, so two different passwords would hash alike.
function assertUsable(password: string): void {
  if (loneSurrogate.test(password)) throw new MalformedPassword()
  if (Buffer.byteLength(password, 'utf8') > maxPasswordBytes) throw new PasswordTooLong()
}

// Hashing failures as the contract names them: a full queue is 503, a foreign hash is 400.
function translate(error: unknown): never {
  if (error instanceof QueueFullError) throw withRetryAfter(new HashingBusy(), 1)
  if (error instanceof UnusableHashError) throw new MalformedHash()
  throw error
}

const passwordRoutes: FastifyPluginAsyncTypebox<PasswordRoutesOptions> = async (
  app,
  { hasher },
) => {
  app.post('/hash', { schema: hashRoute }, async (request) => {
    assertUsable(request.body.password)
    const hash = await hasher.hash(request.body.password).catch(translate)
    return { hash }
  })

  app.post('/verify', { schema: verifyRoute }, async (request) => {
    assertUsable(request.body.password)
    return hasher.verify(request.body.password, request.body.hash).catch(translate)
  })
}

export default passwordRoutes
