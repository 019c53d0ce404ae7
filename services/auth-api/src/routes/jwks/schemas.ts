import { JwksSchema } from '@users-auth/auth-contract'

export const jwksRoute = {
  operationId: 'getJwks',
  summary: 'Public keys that verify access tokens (JWKS)',
  description:
    'The public half of every signing key: the active one and those kept only for ' +
    'verification. Needs no credential. Cacheable for 5 minutes.',
  tags: ['keys'],
  response: { 200: JwksSchema },
}
