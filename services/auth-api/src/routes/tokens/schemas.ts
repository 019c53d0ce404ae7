import { TokenRequestSchema, TokenResponseSchema } from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

export const mintRoute = {
  summary: 'Mint an access token (JWT, typ at+jwt) for a user session',
  security: [{ bearer: [] }],
  body: TokenRequestSchema,
  response: { 200: TokenResponseSchema, ...problemResponses(400, 401, 413, 415) },
}
