import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import { ProviderIdSchema, ProviderParamsSchema, RedirectToQuerySchema } from '../oauth/schemas.js'

const bearer = [{ bearer: [] }]

const IdentitySchema = Type.Object(
  {
    provider: ProviderIdSchema,
    subject: Type.String({ maxLength: 255, description: 'The provider’s id for its user' }),
    email: Type.String({
      maxLength: 254,
      description: 'The address the provider gave at linking (may be empty)',
    }),
    linkedAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
)

export const listIdentitiesRoute = {
  operationId: 'listMyIdentities',
  summary: 'The provider identities linked to the signed-in user',
  description: 'Each identity signs this account in through its provider.',
  tags: ['social login'],
  security: bearer,
  response: {
    200: Type.Object(
      { items: Type.Array(IdentitySchema, { maxItems: 100 }) },
      { additionalProperties: false },
    ),
    ...problemResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE'),
  },
}

export const linkIdentityRoute = {
  operationId: 'linkIdentity',
  summary: 'Start linking a provider identity to the signed-in user',
  description:
    'Answers the provider’s authorization URL to send the browser to. After the provider, the ' +
    'callback links the identity to this account and redirects to `redirect_to` (no code), or ' +
    'to `redirect_to#error=identity_linked` when the identity belongs to another account ' +
    '(nothing changes), or `#error=already_linked` when this account has another identity at ' +
    'that provider. Unlike a sign-in’s start this is a Bearer call, so it sets no browser-binding ' +
    'cookie: the link goes to the account whose token started it, whichever browser returns. ' +
    'Open the URL in the browser of the user who asked, never in one a link was sent to. ' +
    'Spends from the per-IP budget.',
  tags: ['social login'],
  security: bearer,
  params: ProviderParamsSchema,
  querystring: RedirectToQuerySchema,
  response: {
    200: Type.Object(
      {
        authorizationUrl: Type.String({
          format: 'uri',
          maxLength: 8192,
          description: 'The provider’s authorization page, with this round trip’s parameters',
        }),
      },
      { additionalProperties: false },
    ),
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}

export const unlinkIdentityRoute = {
  operationId: 'unlinkIdentity',
  summary: 'Unlink the signed-in user’s identity at a provider',
  description:
    'Refused with 409 LAST_LOGIN_METHOD when the account has no password and no other ' +
    'identity: nothing would be left to sign in with.',
  tags: ['social login'],
  security: bearer,
  params: ProviderParamsSchema,
  response: {
    204: Type.Null(),
    ...problemResponses(
      'VALIDATION_FAILED',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'LAST_LOGIN_METHOD',
      'SERVICE_UNAVAILABLE',
    ),
  },
}
