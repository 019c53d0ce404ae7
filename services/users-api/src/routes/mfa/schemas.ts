import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import { bodyProblems, PasswordInputSchema, SessionSchema } from '../auth/schemas.js'

/** A 6-digit TOTP code or a recovery code (`XXXX-XXXX-XXXX-XXXX`, dashes and case optional). */
const CodeSchema = Type.String({
  minLength: 6,
  maxLength: 24,
  pattern: '^[0-9A-Za-z -]+$',
  description: 'A 6-digit code from the authenticator app, or an unused recovery code',
})

const RecoveryCodesSchema = Type.Object(
  {
    recoveryCodes: Type.Array(
      Type.String({ minLength: 19, maxLength: 19, pattern: '^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$' }),
      {
        minItems: 10,
        maxItems: 10,
        description: 'Shown once: each signs in once in place of a TOTP code',
      },
    ),
  },
  { additionalProperties: false },
)

const CodeBodySchema = Type.Object(
  { code: CodeSchema },
  { additionalProperties: false, examples: [{ code: '123456' }] },
)

const bearer = [{ bearer: [] }]
const codeProblems = [
  ...bodyProblems,
  'UNAUTHORIZED',
  'INVALID_MFA_CODE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
] as const

export const enrolRoute = {
  operationId: 'enrolTotp',
  summary: 'Start TOTP enrolment',
  description:
    'Answers a new secret (base32) and its QR-ready `otpauth://totp/` URI, shown this once; ' +
    'the factor stays pending until a code confirms it (within 15 minutes). Needs the ' +
    'password when the account has one, checked under the same lockout as every password ' +
    'check. 403 while a second factor is on. Spends from the per-IP budget.',
  tags: ['mfa'],
  security: bearer,
  body: Type.Object(
    { password: Type.Optional(PasswordInputSchema) },
    { additionalProperties: false, examples: [{ password: 'plum tractor velvet orbit 47' }] },
  ),
  response: {
    200: Type.Object(
      {
        secret: Type.String({ maxLength: 128, description: 'Base32, for typing in by hand' }),
        otpauthUri: Type.String({
          maxLength: 1024,
          description: 'Render as a QR code for the authenticator app',
        }),
      },
      { additionalProperties: false },
    ),
    ...problemResponses(
      ...bodyProblems,
      'UNAUTHORIZED',
      'INVALID_CREDENTIALS',
      'FORBIDDEN',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}

export const confirmRoute = {
  operationId: 'confirmTotp',
  summary: 'Confirm TOTP enrolment with a first code',
  description:
    'The first code from the app turns the second factor on and answers 10 recovery codes, ' +
    'shown this once. Every other session of the account ends. Wrong codes count against the ' +
    "account's code budget (429 with `Retry-After` when spent) and the per-IP budget.",
  tags: ['mfa'],
  security: bearer,
  body: CodeBodySchema,
  response: { 200: RecoveryCodesSchema, ...problemResponses(...codeProblems) },
}

export const disableRoute = {
  operationId: 'disableTotp',
  summary: 'Turn the second factor off',
  description:
    'Takes a TOTP code or a recovery code. Every other session of the account ends. 404 ' +
    "when no second factor is on. Wrong codes count against the account's code budget.",
  tags: ['mfa'],
  security: bearer,
  body: CodeBodySchema,
  response: { 204: Type.Null(), ...problemResponses(...codeProblems, 'NOT_FOUND') },
}

export const regenerateRoute = {
  operationId: 'regenerateRecoveryCodes',
  summary: 'Replace every recovery code',
  description:
    'Takes a TOTP code or a recovery code; the old recovery codes stop working and 10 new ' +
    'ones are answered, shown this once. 404 when no second factor is on.',
  tags: ['mfa'],
  security: bearer,
  body: CodeBodySchema,
  response: { 200: RecoveryCodesSchema, ...problemResponses(...codeProblems, 'NOT_FOUND') },
}

export const verifyRoute = {
  operationId: 'verifyMfa',
  summary: 'Complete a sign-in with a second factor',
  description:
    'Takes the `mfaToken` of a MFA_REQUIRED answer and a TOTP or recovery code, and starts ' +
    'the session. Access tokens carry `amr` with `otp` and `mfa` for a TOTP code, `mfa` alone ' +
    'for a recovery code, and `auth_time` now. The token lives 5 minutes, is single use and ' +
    'dies after 5 wrong codes; a TOTP code is accepted once per account. Wrong codes count ' +
    "against the account's code budget (apart from the password lockout) and the per-IP budget.",
  tags: ['mfa'],
  body: Type.Object(
    {
      mfaToken: Type.String({ minLength: 43, maxLength: 43, pattern: '^[A-Za-z0-9_-]{43}$' }),
      code: CodeSchema,
    },
    {
      additionalProperties: false,
      examples: [{ mfaToken: 'q2Xo6bQ0k1m4GkUu4mJ3cQ8o4bN7aZz1xY2wV3uT4sR', code: '123456' }],
    },
  ),
  response: {
    200: SessionSchema,
    ...problemResponses(
      ...bodyProblems,
      'INVALID_MFA_CODE',
      'ACCOUNT_DISABLED',
      'RATE_LIMITED',
      'SERVICE_UNAVAILABLE',
    ),
  },
}
