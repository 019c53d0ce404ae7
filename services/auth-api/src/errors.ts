import { problemError } from '@users-auth/service-kit'

// auth-api's part of the contract's catalogue.
export const CredentialRequired = problemError(
  'UNAUTHORIZED',
  'A valid service credential is required.',
)
export const PasswordTooLong = problemError(
  'VALIDATION_FAILED',
  'The password is longer than 1024 bytes.',
)
export const MalformedPassword = problemError(
  'VALIDATION_FAILED',
  'The password is not well-formed Unicode (it holds a lone surrogate).',
)
export const MalformedHash = problemError(
  'VALIDATION_FAILED',
  'The hash is not an argon2 PHC string.',
)
export const HashingBusy = problemError(
  'SERVICE_UNAVAILABLE',
  'Password hashing is at capacity; retry later.',
)
export const UnreadableCiphertext = problemError(
  'VALIDATION_FAILED',
  'The ciphertext does not open under any configured TOTP key.',
)
