import createError from '@fastify/error'
import { type ProblemCode, problemCodes } from './problem-codes.js'

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
}

export type ProblemError = Error & ProblemDetails & { code: ProblemCode; statusCode: number }

export type ProblemErrorClass = new (...args: unknown[]) => ProblemError

/**
 * An error class for one contract code; its status comes from the catalogue. `detail` is the
 * client-facing sentence (may hold `%s` placeholders filled from constructor arguments).
 */
export function problemError(code: ProblemCode, detail: string): ProblemErrorClass {
  return createError(code, detail, problemCodes[code].status)
}

/** Attaches `Retry-After` seconds to an error instance, for 429 and 503 answers. */
export function withRetryAfter<E extends Error>(error: E, seconds: number): E & ProblemDetails {
  return Object.assign(error, { retryAfter: Math.max(1, Math.ceil(seconds)) })
}
