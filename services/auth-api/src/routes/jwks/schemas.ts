import { JwksSchema } from '@users-auth/auth-contract'

export const jwksRoute = {
  summary: 'Public keys that verify access tokens (JWKS)',
  response: { 200: JwksSchema },
}
