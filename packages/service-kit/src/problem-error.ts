import createError from '@fastify/error'
import { isProblemCode, type ProblemCode, problemCodes } from './problem-codes.js'

export interface ValidationIssue {
  /** JSON Pointer into the request body or query. */
  path: string
  message: string
}

/** What the problem renderer reads from an error beyond `code` and `message`. */
export interface ProblemDetails {
  /** Seconds; sent as `Retry-After` (429 and 503). */
  retryAfter?: number
  errors?: ValidationIssue[]
  /** MFA_REQUIRED only: the token that `/v1/auth/mfa/verify` takes with the code. */
  mfaToken?: string
}

export type ProblemError = Error & ProblemDetails & { code: ProblemCode; statusCode: number }

export type ProblemErrorClass = new (...args: unknown[]) => ProblemError

// Marks the classes made here. Only code that imports this module can make an error carrying
// it, so an error that merely has a catalogue-looking `code` (another service's answer, a
// library's) is never taken for one of ours.
const catalogued = Symbol('problem-catalogue')

/**
 * An error class for one contract code; its status comes from the catalogue. `detail` is the
 * client-facing sentence (may hold `%s` placeholders filled from constructor arguments).
 * Such an error is an answer, not a fault: no stack is captured (none is ever sent or logged,
 * and every refusal paid for one), but for INTERNAL, which is logged.
 */
export function problemError(code: ProblemCode, detail: string): ProblemErrorClass {
  const { status } = problemCodes[code]
  const ErrorClass = createError(code, detail, status, Error, code === 'INTERNAL')
  Object.defineProperty(ErrorClass.prototype, catalogued, { value: true })
  return ErrorClass
}

/** True only for instances of classes made by `problemError`: the errors a renderer trusts. */
export function isCatalogueError(error: unknown): error is ProblemError {
  return (
    error instanceof Error &&
    (error as unknown as Record<symbol, unknown>)[catalogued] === true &&
    isProblemCode((error as { code?: unknown }).code)
  )
}

/** Attaches `Retry-After` seconds to an error instance, for 429 and 503 answers. */
export function withRetryAfter<E extends Error>(error: E, seconds: number): E & ProblemDetails {
  return Object.assign(error, { retryAfter: Math.max(1, Math.ceil(seconds)) })
}
