import {
  TotpEnrollRequestSchema,
  TotpEnrollResponseSchema,
  TotpVerifyRequestSchema,
  TotpVerifyResponseSchema,
} from '@users-auth/auth-contract'
import { problemResponses } from '@users-auth/service-kit'

const security = [{ bearer: [] }]
const problems = problemResponses(
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
)

export const enrollRoute = {
  operationId: 'enrollTotp',
  summary: 'Make a TOTP secret and seal it',
  description:
    'A fresh 160-bit secret: its base32 form and `otpauth://` URI to show the user once, and ' +
    'its ciphertext under the active key of TOTP_ENCRYPTION_KEYS, the only form the caller stores.',
  tags: ['totp'],
  security,
  body: TotpEnrollRequestSchema,
  response: { 200: TotpEnrollResponseSchema, ...problems },
}

export const verifyRoute = {
  operationId: 'verifyTotp',
  summary: 'Check a TOTP code against a sealed secret',
  description:
    'RFC 6238 (SHA-1, 6 digits, 30 s), the previous and next step accepted, steps at or ' +
    'before `afterStep` refused. Answers the matching step, and a fresh ciphertext when the ' +
    'secret was sealed under a key that no longer encrypts. A ciphertext that does not open ' +
    'under any configured key is 400.',
  tags: ['totp'],
  security,
  body: TotpVerifyRequestSchema,
  response: { 200: TotpVerifyResponseSchema, ...problems },
}
