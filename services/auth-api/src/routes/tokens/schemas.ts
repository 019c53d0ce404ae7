import { TokenRequestSchema, TokenResponseSchema } from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

export const mintRoute = {
  operationId: 'mintAccessToken',
  summary: 'Mint an access token (JWT, typ at+jwt) for a user session',
  description:
    'Signs `sub`, `sid`, `roles` and, when given, `amr` and `auth_time` with the active key, ' +
    'with the configured issuer, audience and lifetime.',
  tags: ['tokens'],
  security: [{ bearer: [] }],
  body: TokenRequestSchema,
  response: {
    200: TokenResponseSchema,
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_MEDIA_TYPE',
    ),
  },
}
