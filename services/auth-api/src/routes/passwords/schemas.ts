import {
  HashRequestSchema,
  HashResponseSchema,
  VerifyRequestSchema,
  VerifyResponseSchema,
} from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

const security = [{ bearer: [] }]
// A full hashing queue answers 503 SERVICE_UNAVAILABLE with Retry-After.
const problems = problemResponses(
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'SERVICE_UNAVAILABLE',
)

export const hashRoute = {
  operationId: 'hashPassword',
  summary: 'Hash a password with argon2id',
  description:
    'Answers the PHC string of the password under the configured argon2id parameters. ' +
    'Passwords above 1,024 UTF-8 bytes are refused before any work; a full queue is 503.',
  tags: ['passwords'],
  security,
  body: HashRequestSchema,
  response: { 200: HashResponseSchema, ...problems },
}

export const verifyRoute = {
  operationId: 'verifyPassword',
  summary: 'Verify a password against a PHC hash (or a dummy hash when `hash` is null)',
  description:
    'With `hash` null the same work is done against a dummy hash and the answer is invalid, ' +
    'so an unknown account costs what a wrong password costs. `needsRehash` is true when the ' +
    'hash is below the current parameters.',
  tags: ['passwords'],
  security,
  body: VerifyRequestSchema,
  response: { 200: VerifyResponseSchema, ...problems },
}
