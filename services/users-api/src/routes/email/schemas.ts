import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import {
  bodyProblems,
  EmailSchema,
  NewPasswordSchema,
  PasswordInputSchema,
  UserSchema,
} from '../auth/schemas.js'

const bearer = [{ bearer: [] }]

/** A mail token as the links carry it: 256 bits in base64url. */
const MailTokenSchema = Type.String({
  minLength: 43,
  maxLength: 43,
  pattern: '^[A-Za-z0-9_-]{43}$',
  description: 'The `token` from the fragment of the mailed link',
})
const exampleToken = 'q3Zk0b9wQx1m8VtL2cYp7rN4sD6fH0jK5aE9uW3iO1g'

const TokenBodySchema = Type.Object(
  { token: MailTokenSchema },
  { additionalProperties: false, examples: [{ token: exampleToken }] },
)

/** The one answer of the routes that may or may not send a mail. */
export const AcceptedSchema = Type.Object(
  { message: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
)

// Routes that use a mailed token spend from the per-IP budget and answer these.
const tokenProblems = [
  ...bodyProblems,
  'INVALID_TOKEN',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
] as const

export const sendVerificationRoute = {
  operationId: 'sendVerificationEmail',
  summary: 'Mail a new verification link to the account’s address',
  description:
    'Voids earlier verification links. Nothing is mailed when the address is verified already ' +
    'or its mail budget (5 an hour) is spent; the answer is the same. Spends from the per-IP ' +
    'budget.',
  tags: ['email'],
  security: bearer,
  response: {
    202: AcceptedSchema,
    ...problemResponses('UNAUTHORIZED', 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
}

export const verifyEmailRoute = {
  operationId: 'verifyEmail',
  summary: 'Mark the address verified with the mailed token',
  description:
    'The token comes from the link’s fragment (`/verify-email#token=…`); it works once, for ' +
    '24 hours, and only while the address is still the account’s.',
  tags: ['email'],
  body: TokenBodySchema,
  response: { 200: UserSchema, ...problemResponses(...tokenProblems) },
}

export const forgotPasswordRoute = {
  operationId: 'forgotPassword',
  summary: 'Mail a password reset link, if the account exists',
  description:
    'Always the same 202 answer, sent before anything about the address is looked up. A ' +
    'reset link (1 hour, single use) is mailed when an account has this address and the ' +
    'address’s mail budget (5 an hour) is not spent; a new link voids older ones. Spends from ' +
    'the per-IP budget (429 with `Retry-After` when spent).',
  tags: ['email'],
  body: Type.Object(
    { email: EmailSchema },
    { additionalProperties: false, examples: [{ email: 'try-it-out.k7q2m9@example.com' }] },
  ),
  response: {
    202: AcceptedSchema,
    ...problemResponses(...bodyProblems, 'RATE_LIMITED', 'SERVICE_UNAVAILABLE'),
  },
}

export const resetPasswordRoute = {
  operationId: 'resetPassword',
  summary: 'Set a new password with the mailed token; ends every session',
  description:
    'The new password must satisfy the policy (400 with the reason; the token stays usable). ' +
    'Marks the address verified. Works for an account without a password, which then has one.',
  tags: ['email'],
  body: Type.Object(
    { token: MailTokenSchema, newPassword: NewPasswordSchema },
    {
      additionalProperties: false,
      examples: [{ token: exampleToken, newPassword: 'amber walrus quietly juggles 9' }],
    },
  ),
  response: { 204: Type.Null(), ...problemResponses(...tokenProblems) },
}

export const changeEmailRoute = {
  operationId: 'changeMyEmail',
  summary: 'Ask to move the account to another address',
  description:
    'Needs the password (401 INVALID_CREDENTIALS when wrong, under the same budgets as every ' +
    'password check). Mails a confirmation link (1 hour, single use) to the new address and ' +
    'a notice to the current one; nothing changes until the link is used.',
  tags: ['email'],
  security: bearer,
  body: Type.Object(
    { newEmail: EmailSchema, password: PasswordInputSchema },
    {
      additionalProperties: false,
      examples: [{ newEmail: 'ada.new@example.com', password: 'plum tractor velvet orbit 47' }],
    },
  ),
  response: {
    202: AcceptedSchema,
    ...problemResponses(
      ...bodyProblems,
      'UNAUTHORIZED',
      'INVALID_CREDENTIALS',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}

export const confirmEmailChangeRoute = {
  operationId: 'confirmEmailChange',
  summary: 'Make the new address the account’s, with the token mailed to it',
  description:
    'The address becomes the account’s, verified; every session except the one that asked ' +
    'ends. 409 EMAIL_TAKEN when another account has taken the address meanwhile.',
  tags: ['email'],
  body: TokenBodySchema,
  response: { 200: UserSchema, ...problemResponses(...tokenProblems, 'EMAIL_TAKEN') },
}
