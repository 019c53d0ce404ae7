import {
  HashRequestSchema,
  HashResponseSchema,
  VerifyRequestSchema,
  VerifyResponseSchema,
} from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

const security = [{ bearer: [] }]

export const hashRoute = {
  summary: 'Hash a password with argon2id',
  security,
  body: HashRequestSchema,
  response: { 200: HashResponseSchema, ...problemResponses(400, 401, 413, 415, 503) },
}

export const verifyRoute = {
  summary: 'Verify a password against a PHC hash (or a dummy hash when `hash` is null)',
  security,
  body: VerifyRequestSchema,
  response: { 200: VerifyResponseSchema, ...problemResponses(400, 401, 413, 415, 503) },
}
