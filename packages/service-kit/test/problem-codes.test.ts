import { describe, expect, it } from 'vitest'
import { problemCodes } from '../src/index.js'

// The contract's error table, copied literally: the catalogue must hold exactly these, plus the
// additions later issues made (which win over the contract), each named with its issue.
const laterAdditions: Record<string, number> = {
  // Issue 11, item 14: a known path with a wrong method is 405 with `Allow`, not 404.
  METHOD_NOT_ALLOWED: 405,
}
const contractTable: Record<string, number> = {
  VALIDATION_FAILED: 400,
  INVALID_CREDENTIALS: 401,
  UNAUTHORIZED: 401,
  REFRESH_TOKEN_INVALID: 401,
  REFRESH_TOKEN_REUSED: 401,
  MFA_REQUIRED: 401,
  INVALID_MFA_CODE: 401,
  INVALID_TOKEN: 400,
  FORBIDDEN: 403,
  EMAIL_NOT_VERIFIED: 403,
  ACCOUNT_DISABLED: 403,
  LAST_LOGIN_METHOD: 409,
  IDENTITY_LINKED: 409,
  NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
}

describe('problem code catalogue', () => {
  it('holds every contract code with its status, and nothing else', () => {
    const catalogue = Object.fromEntries(
      Object.entries(problemCodes).map(([code, { status }]) => [code, status]),
    )
    expect(catalogue).toEqual({ ...contractTable, ...laterAdditions })
  })
})
