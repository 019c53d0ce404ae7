import { LoginRequestSchema, LoginResponseSchema } from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

export const loginRoute = {
  operationId: 'verifyPasswordAndMint',
  summary: 'Verify a password and, when it is right, mint an access token (one call per login)',
  description:
    'The work of `POST /v1/passwords/verify` (a dummy hash when `hash` is null, the same queue ' +
    'and limits), then, only when the password is right, the token of `POST /v1/tokens` for ' +
    '`token`. `accessToken` and `expiresIn` are present exactly when `valid` is true.',
  tags: ['passwords'],
  security: [{ bearer: [] }],
  body: LoginRequestSchema,
  response: {
    200: LoginResponseSchema,
    // A full hashing queue answers 503 SERVICE_UNAVAILABLE with Retry-After.
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
      'SERVICE_UNAVAILABLE',
    ),
  },
}
