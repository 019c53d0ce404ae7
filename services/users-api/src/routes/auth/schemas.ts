import { documentedOnly, problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'

/** A MongoDB ObjectId as users-api writes it: 24 lowercase hex digits. */
export const ObjectIdSchema = Type.String({
  minLength: 24,
  maxLength: 24,
  pattern: '^[0-9a-f]{24}$',
})
/** A session id: a UUID (RFC 9562), as users-api makes them. */
export const SessionIdSchema = Type.String({
  minLength: 36,
  maxLength: 36,
  pattern: '^[0-9a-f-]{36}$',
})
const DateTimeSchema = Type.String({ format: 'date-time', maxLength: 40 })

// Shapes shared by every route that returns a user or a session. Their bounds document what
// users-api writes; serialisation does not enforce them.
export const UserSchema = Type.Object(
  {
    id: ObjectIdSchema,
    email: Type.String({ format: 'email', maxLength: 254 }),
    emailVerified: Type.Boolean({ description: 'Whether the owner proved they read this address' }),
    name: Type.String({ maxLength: 100 }),
    roles: Type.Array(Type.Union([Type.Literal('user'), Type.Literal('admin')]), {
      maxItems: 2,
      uniqueItems: true,
    }),
    hasPassword: Type.Boolean({ description: 'False for an account made by social login alone' }),
    mfaEnabled: Type.Boolean({ description: 'Whether sign-in asks for a second factor' }),
    disabled: Type.Boolean({ description: 'Set by an admin: the account cannot sign in' }),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  },
  { additionalProperties: false },
)

export const SessionSchema = Type.Object(
  {
    user: UserSchema,
    accessToken: Type.String({
      maxLength: 8192,
      pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
      description: 'A JWT (typ at+jwt) to send as `Authorization: Bearer …`',
    }),
    refreshToken: Type.String({
      minLength: 80,
      maxLength: 80,
      pattern: '^[0-9a-f-]{36}\\.[A-Za-z0-9_-]{43}$',
      description: 'Opaque, single use: rotated by every refresh',
    }),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      format: 'int32',
      description: 'Seconds until the access token expires',
    }),
  },
  { additionalProperties: false },
)

// Loose enough for real addresses (incl. surrounding spaces, which are trimmed), strict
// enough that anything else is a 400. Linear: the domain's labels exclude the dot that
// separates them, so no two parts of the pattern can claim the same character. No address
// syntax (`<>()[],;:"\`): a mail library would read `a,b@x.org` or `x<b@x.org>` as another
// recipient, so two accounts would share one mailbox.
export const EmailSchema = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern:
    '^\\s*[^\\s@<>()\\[\\],;:"\\\\]+@[^\\s@.<>()\\[\\],;:"\\\\]+(?:\\.[^\\s@.<>()\\[\\],;:"\\\\]+)+\\s*$',
})

/** Any password a client sends to be checked: any may be tried. 1,024 is the wire limit. */
export const PasswordInputSchema = Type.String({ minLength: 1, maxLength: 1024 })

/**
 * A new password. Its minimum is the policy's, configurable (`PASSWORD_MIN_LENGTH`), so the
 * document states the default while validation leaves length to the policy, which answers with
 * its own reason.
 */
export const NewPasswordSchema = Type.String({
  minLength: 1,
  maxLength: 1024,
  description:
    'At least 15 characters (code points after NFKC) by default; the deployment may set ' +
    'another minimum (PASSWORD_MIN_LENGTH, 8 or more). At most 128 characters. Refused when ' +
    'common, easy to guess, or built from the email address or name; no composition rules.',
  [documentedOnly]: { minLength: 15 },
})
export const NameSchema = Type.String({ maxLength: 100 })

// An address unlikely to be registered and a passphrase the default policy accepts, so that
// "Try it out" succeeds unchanged (once), and the login example that signs in with them.
const exampleAccount = {
  email: 'try-it-out.k7q2m9@example.com',
  password: 'plum tractor velvet orbit 47',
}

export const SignupBodySchema = Type.Object(
  { email: EmailSchema, password: NewPasswordSchema, name: Type.Optional(NameSchema) },
  { additionalProperties: false, examples: [{ ...exampleAccount, name: 'Ada Example' }] },
)

export const LoginBodySchema = Type.Object(
  { email: EmailSchema, password: PasswordInputSchema },
  { additionalProperties: false, examples: [exampleAccount] },
)

export const RefreshBodySchema = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
  {
    additionalProperties: false,
    examples: [
      {
        refreshToken:
          '0b6f1f2e-8c1d-4e43-9a57-3f0e2f1c9d4a.c2FtcGxlLXJlZnJlc2gtdG9rZW4tbm90LWEtcmVhbC1',
      },
    ],
  },
)

const bearer = [{ bearer: [] }]

// Signup answers one of two shapes, and the serializer picks the one the answer matches by
// validating it. The address is as the client typed it (the request's pattern, not the
// stricter `email` format), so here it is checked by length only: a format would turn an
// accepted address into a 500.
const SignupUserSchema = Type.Object(
  { ...UserSchema.properties, email: Type.String({ maxLength: 254 }) },
  { additionalProperties: false },
)
const SignupSessionSchema = Type.Object(
  { ...SessionSchema.properties, user: SignupUserSchema },
  { additionalProperties: false },
)

// The answers every route with a JSON body can give before its handler runs.
/** What any route that takes a JSON body may answer about the body itself. */
export const bodyProblems = [
  'VALIDATION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
] as const

export const signupRoute = {
  operationId: 'signup',
  summary: 'Create an account and start a session',
  description:
    'Creates the account and its first session, and answers with both tokens and ' +
    '`Location: /v1/users/{id}`; mails a verification link to the address. Where the ' +
    'deployment requires verified addresses, the answer is the account alone, without tokens. The password must satisfy the policy (400 with the reason ' +
    'otherwise). Spends from the per-IP budget (429 with `Retry-After` when spent).',
  tags: ['auth'],
  body: SignupBodySchema,
  response: {
    201: Type.Union([
      SignupSessionSchema,
      Type.Object(
        { user: SignupUserSchema },
        {
          additionalProperties: false,
          description:
            'With REQUIRE_EMAIL_VERIFICATION: the account, no tokens; sign in once the address is verified',
        },
      ),
    ]),
    ...problemResponses(...bodyProblems, 'EMAIL_TAKEN', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
}

export const loginRoute = {
  operationId: 'login',
  summary: 'Start a session with email and password',
  description:
    'An unknown email and a wrong password get the same answer, after the same work. Spends ' +
    'from the per-IP budget; repeated failures for one account slow it down (429 with ' +
    '`Retry-After`). With a second factor on, the right password answers 401 MFA_REQUIRED ' +
    'with an `mfaToken` for POST /v1/auth/mfa/verify, and no session starts yet.',
  tags: ['auth'],
  body: LoginBodySchema,
  response: {
    200: SessionSchema,
    ...problemResponses(
      ...bodyProblems,
      'INVALID_CREDENTIALS',
      'MFA_REQUIRED',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}

export const refreshRoute = {
  operationId: 'refreshSession',
  summary: 'Rotate the refresh token and get a new access token',
  description:
    'Every refresh token is single use: the answer carries its successor. Presenting a ' +
    'refresh token that was already rotated ends the whole session (REFRESH_TOKEN_REUSED). ' +
    'Spends from the per-IP budget.',
  tags: ['auth'],
  body: RefreshBodySchema,
  response: {
    200: SessionSchema,
    ...problemResponses(
      ...bodyProblems,
      'REFRESH_TOKEN_INVALID',
      'REFRESH_TOKEN_REUSED',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}

export const logoutRoute = {
  operationId: 'logout',
  summary: 'End the session of the presented access token',
  description: 'The access token and the session’s refresh token stop working at once.',
  tags: ['auth'],
  security: bearer,
  response: { 204: Type.Null(), ...problemResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE') },
}
