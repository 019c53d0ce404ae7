import { problemError } from '@users-auth/service-kit'

// users-api's catalogue: exactly the contract's codes, each with the sentence a client sees.
export const ValidationFailed = problemError(
  'VALIDATION_FAILED',
  'The request does not match the schema.',
)
export const InvalidCredentials = problemError(
  'INVALID_CREDENTIALS',
  'The email or password is incorrect.',
)
export const Unauthorized = problemError('UNAUTHORIZED', 'A valid access token is required.')
export const RefreshTokenInvalid = problemError(
  'REFRESH_TOKEN_INVALID',
  'The refresh token is invalid or expired.',
)
export const RefreshTokenReused = problemError(
  'REFRESH_TOKEN_REUSED',
  'The refresh token was already used; the session has been revoked.',
)
export const AccountDisabled = problemError('ACCOUNT_DISABLED', 'This account is disabled.')
export const Forbidden = problemError('FORBIDDEN', 'You are not allowed to do this.')
export const NotFound = problemError('NOT_FOUND', 'There is no such resource.')
export const EmailTaken = problemError('EMAIL_TAKEN', 'An account with this email already exists.')
export const RateLimited = problemError('RATE_LIMITED', 'Too many attempts; retry later.')
export const ServiceUnavailable = problemError(
  'SERVICE_UNAVAILABLE',
  'A dependency is unavailable; retry later.',
)
export const WrongPassword = problemError('INVALID_CREDENTIALS', 'The password is incorrect.')
export const InvalidToken = problemError(
  'INVALID_TOKEN',
  'The token is unknown, already used, expired or meant for something else.',
)
export const EmailNotVerified = problemError(
  'EMAIL_NOT_VERIFIED',
  'Verify your email address before signing in.',
)
export const LastLoginMethod = problemError(
  'LAST_LOGIN_METHOD',
  'This is the only way left to sign in to the account: set a password or link another provider first.',
)
export const MfaRequired = problemError(
  'MFA_REQUIRED',
  'A second factor is required: send a code with the mfaToken to /v1/auth/mfa/verify.',
)
export const InvalidMfaCode = problemError(
  'INVALID_MFA_CODE',
  'The code is wrong, already used or expired, or the sign-in attempt is no longer valid.',
)
export const MfaAlreadyOn = problemError(
  'FORBIDDEN',
  'A second factor is already on; turn it off before enrolling another.',
)
