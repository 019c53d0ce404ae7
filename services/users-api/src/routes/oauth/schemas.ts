import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import { bodyProblems, SessionSchema } from '../auth/schemas.js'

/** A provider id as OAUTH_PROVIDERS names it. */
export const ProviderIdSchema = Type.String({
  minLength: 1,
  maxLength: 31,
  pattern: '^[a-z][a-z0-9]{0,30}$',
  description: 'A provider id from OAUTH_PROVIDERS, e.g. `google`',
})

export const ProviderParamsSchema = Type.Object(
  { provider: ProviderIdSchema },
  { additionalProperties: false },
)

export const RedirectToQuerySchema = Type.Object(
  {
    redirect_to: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'Where the browser returns; must equal an entry of OAUTH_REDIRECT_URLS (scheme, host, port, path and query)',
    }),
  },
  { additionalProperties: false, examples: [{ redirect_to: 'https://app.example.com/oauth' }] },
)

const RedirectSchema = Type.Null({ description: 'A redirect: `Location` names the target' })

const StartRedirectSchema = Type.Null({
  description:
    'A redirect to the provider: `Location` names its authorization page; `Set-Cookie` binds ' +
    'this sign-in to the browser',
  headers: {
    'Set-Cookie': {
      type: 'string',
      maxLength: 200,
      description:
        '`oauth_browser=<random value>; Max-Age=600; Path=/v1/auth/oauth; HttpOnly; ' +
        'SameSite=Lax` (and `Secure` when PUBLIC_URL is https). The callback requires it back: ' +
        'it ties the sign-in to the browser that started it (login CSRF). It is no credential ' +
        'for anything else; the API authenticates by Bearer token only.',
    },
  },
})

const CallbackQuerySchema = Type.Object(
  {
    state: Type.String({ minLength: 1, maxLength: 256 }),
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    iss: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    error: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  {
    // Providers add parameters of their own (Google: scope, authuser, prompt…).
    additionalProperties: Type.String({ maxLength: 2048 }),
    examples: [{ state: 'q0Fh2wJ1hH9cQm2Zp1v0W1o5t8nU3yR7xK4eL6aB9dC', code: 'provider-code' }],
  },
)

const ProviderListSchema = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          id: ProviderIdSchema,
          name: Type.String({ maxLength: 100, description: 'For a sign-in button' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  },
  { additionalProperties: false },
)

export const listProvidersRoute = {
  operationId: 'listOAuthProviders',
  summary: 'The configured social login providers',
  description: 'The providers a client may offer as sign-in buttons, in the configured order.',
  tags: ['social login'],
  response: { 200: ProviderListSchema, ...problemResponses('SERVICE_UNAVAILABLE') },
}

export const startRoute = {
  operationId: 'startOAuthLogin',
  summary: 'Send the browser to a provider to sign in',
  description:
    'Answers 302 to the provider’s authorization page (authorization code flow with PKCE, ' +
    '`state` and, for OpenID Connect, `nonce`, all kept server-side for 10 minutes), and sets ' +
    'the `oauth_browser` cookie that the callback requires back from the same browser. Open it ' +
    'in the browser (a top-level navigation), not with fetch. A `redirect_to` that is not ' +
    'listed in OAUTH_REDIRECT_URLS is a 400, without a redirect; a provider that cannot be ' +
    'reached is a 503 with `Retry-After`. Spends from the per-IP budget.',
  tags: ['social login'],
  params: ProviderParamsSchema,
  querystring: RedirectToQuerySchema,
  response: {
    302: StartRedirectSchema,
    ...problemResponses('VALIDATION_FAILED', 'NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
}

export const callbackRoute = {
  operationId: 'oauthCallback',
  summary: 'The provider’s return to users-api',
  description:
    'The redirect URI registered at the provider. Checks the provider’s answer (state once, ' +
    'PKCE, the ID token in full), finds or makes the account, then answers 302 to ' +
    '`redirect_to#code=…` (a one-time code for POST /v1/auth/oauth/token, valid 60 seconds), to ' +
    '`redirect_to` after a link, or to `redirect_to#error=…` (`access_denied`, ' +
    '`account_exists`, `identity_linked`, `already_linked`, `email_required`, ' +
    '`invalid_response`, `temporarily_unavailable`). An unknown, used or expired `state` is a ' +
    '400 without a redirect, and so is a sign-in’s `state` arriving without the ' +
    '`oauth_browser` cookie that its start set in this browser, or with another value (a ' +
    'callback URL from someone else’s sign-in signs nobody in). The answer clears the cookie. ' +
    'A link’s callback needs no cookie: it can only link to the account whose token started it.',
  tags: ['social login'],
  params: ProviderParamsSchema,
  querystring: CallbackQuerySchema,
  response: {
    302: RedirectSchema,
    ...problemResponses('VALIDATION_FAILED', 'NOT_FOUND', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
}

export const exchangeRoute = {
  operationId: 'exchangeOAuthCode',
  summary: 'Exchange a social login’s one-time code for a session',
  description:
    'The code from the callback’s redirect (`#code=…`), usable once within 60 seconds. The ' +
    'session’s access tokens carry `amr: ["fed"]`. Spends from the per-IP budget.',
  tags: ['social login'],
  body: Type.Object(
    {
      code: Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'The one-time code from the redirect’s fragment',
      }),
    },
    {
      additionalProperties: false,
      examples: [{ code: 'Zm9yLWV4YW1wbGUtb25seS1ub3QtYS1yZWFsLWNvZGUtMDA' }],
    },
  ),
  response: {
    200: SessionSchema,
    ...problemResponses(
      ...bodyProblems,
      'INVALID_TOKEN',
      'ACCOUNT_DISABLED',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}
