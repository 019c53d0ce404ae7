import { describe, expect, it } from 'vitest'
import { problemCodes } from '../src/index.js'

// The contract's error table, copied literally: the catalogue must hold exactly these.
const contractTable: Record<string, number> = {
  VALIDATION_FAILED: 400,
  INVALID_CREDENTIALS: 401,
  UNAUTHORIZED: 401,
  REFRESH_TOKEN_INVALID: 401,
  REFRESH_TOKEN_REUSED: 401,
  FORBIDDEN: 403,
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
    expect(catalogue).toEqual(contractTable)
  })
})
