import { CredentialCheckResponseSchema } from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

export const checkRoute = {
  operationId: 'checkCredential',
  summary: 'Check the service credential (no other work)',
  description:
    'Answers 200 when the presented service credential is accepted, spending no hashing or ' +
    'signing work: how a caller’s readiness learns that its credential is right.',
  tags: ['credential'],
  security: [{ bearer: [] }],
  response: { 200: CredentialCheckResponseSchema, ...problemResponses('UNAUTHORIZED') },
}
