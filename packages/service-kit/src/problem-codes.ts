// The contract's error catalogue: every non-2xx answer of either service carries one of these
// codes, with this status and title. Services create their errors from this table so a status
// is written down exactly once.
export const problemCodes = {
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid credentials' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  REFRESH_TOKEN_INVALID: { status: 401, title: 'Refresh token invalid' },
  REFRESH_TOKEN_REUSED: { status: 401, title: 'Refresh token reused' },
  MFA_REQUIRED: { status: 401, title: 'Second factor required' },
  INVALID_MFA_CODE: { status: 401, title: 'Invalid second-factor code' },
  INVALID_TOKEN: { status: 400, title: 'Invalid token' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  EMAIL_NOT_VERIFIED: { status: 403, title: 'Email not verified' },
  ACCOUNT_DISABLED: { status: 403, title: 'Account disabled' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  // Issue 11 (later than the contract's table, so it wins): a known path, another method.
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method Not Allowed' },
  EMAIL_TAKEN: { status: 409, title: 'Email taken' },
  LAST_LOGIN_METHOD: { status: 409, title: 'Last login method' },
  IDENTITY_LINKED: { status: 409, title: 'Identity linked elsewhere' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  INTERNAL: { status: 500, title: 'Internal server error' },
} as const

export type ProblemCode = keyof typeof problemCodes

export function isProblemCode(code: unknown): code is ProblemCode {
  return typeof code === 'string' && Object.hasOwn(problemCodes, code)
}
