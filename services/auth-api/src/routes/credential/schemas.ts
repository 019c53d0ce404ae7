import { CredentialCheckResponseSchema } from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

export const checkRoute = {
  summary: 'Check the service credential (no other work)',
  security: [{ bearer: [] }],
  response: { 200: CredentialCheckResponseSchema, ...problemResponses(401) },
}
