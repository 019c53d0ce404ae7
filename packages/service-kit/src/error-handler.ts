import { isSpanContextValid, trace } from '@opentelemetry/api'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isProblemCode, type ProblemCode, problemCodes } from './problem-codes.js'
import { problemError, type ProblemDetails, type ValidationIssue } from './problem-error.js'

const NoRoute = problemError('NOT_FOUND', 'There is no such route or resource.')

export const problemContentType = 'application/problem+json; charset=utf-8'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ProblemCode
  traceId: string
  errors?: ValidationIssue[]
}

// Fastify's own errors, mapped onto the contract's codes; their messages are safe to show.
const fastifyCodes: Record<string, ProblemCode> = {
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_FAILED',
  FST_UNDER_PRESSURE: 'SERVICE_UNAVAILABLE',
}

// Other libraries' errors carry only a status; these are the ones the contract names.
const statusCodes: Partial<Record<number, ProblemCode>> = {
  400: 'VALIDATION_FAILED',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
}

const fixedDetails: Partial<Record<ProblemCode, string>> = {
  VALIDATION_FAILED: 'The request does not match the schema.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than allowed.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body must be application/json.',
  INTERNAL: 'An unexpected error occurred.',
  SERVICE_UNAVAILABLE: 'The service is temporarily unavailable; retry later.',
}

type AnyError = FastifyError & ProblemDetails & { validation?: FastifyError['validation'] }

function problemCodeOf(error: AnyError): ProblemCode {
  const mapped = fastifyCodes[error.code]
  if (mapped) return mapped
  if (isProblemCode(error.code)) return error.code
  return statusCodes[error.statusCode ?? 500] ?? 'INTERNAL'
}

function validationIssues(error: AnyError): ValidationIssue[] | undefined {
  if (error.errors) return error.errors
  if (!error.validation) return undefined
  const prefix = error.validationContext === 'querystring' ? '/query' : ''
  const issues: ValidationIssue[] = []
  for (const v of error.validation) {
    const params = v.params as { requiredProperties?: string[]; additionalProperties?: string[] }
    // A forbidden field is reported once, at its own path (TypeBox also reports the
    // object-level failure and a `false` sub-schema for it).
    if (v.message === 'schema is false') continue
    if (v.keyword === 'additionalProperties' && params.additionalProperties) {
      for (const name of params.additionalProperties) {
        issues.push({
          path: `${prefix}${v.instancePath}/${name}`,
          message: 'is not an allowed field',
        })
      }
      continue
    }
    if (v.keyword === 'required' && params.requiredProperties) {
      for (const name of params.requiredProperties) {
        issues.push({ path: `${prefix}${v.instancePath}/${name}`, message: 'is required' })
      }
      continue
    }
    issues.push({ path: `${prefix}${v.instancePath}`, message: v.message ?? 'is invalid' })
  }
  return issues
}

// With tracing on, the id that finds this request's spans; without it, the request id.
function traceIdOf(request: FastifyRequest): string {
  const span = trace.getActiveSpan()?.spanContext()
  return span && isSpanContextValid(span) ? span.traceId : request.id
}

export function buildProblem(request: FastifyRequest, error: AnyError): Problem {
  const code = problemCodeOf(error)
  const { status, title } = problemCodes[code]
  const ours = isProblemCode(error.code) && code === error.code
  const detail = ours ? error.message : (fixedDetails[code] ?? error.message)
  const problem: Problem = {
    type: `urn:users-auth:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    traceId: traceIdOf(request),
  }
  if (code === 'VALIDATION_FAILED') {
    const issues = validationIssues(error)
    if (issues) problem.errors = issues
  }
  return problem
}

export function sendProblem(
  reply: FastifyReply,
  problem: Problem,
  retryAfter?: number,
): FastifyReply {
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
  else if (problem.status === 503 || problem.status === 429) reply.header('retry-after', '1')
  return reply.code(problem.status).type(problemContentType).send(problem)
}

/**
 * Turns an error from a lower layer (a driver, a client) into one of the catalogue's, or
 * returns undefined to leave it alone.
 */
export type ErrorMapper = (error: unknown) => Error | undefined

/** The one renderer: every error of the app leaves as RFC 9457 problem+json. */
export function registerProblemHandlers(app: FastifyInstance, mappers: ErrorMapper[] = []): void {
  app.setErrorHandler((raw: AnyError, request, reply) => {
    let error = raw
    for (const map of mappers) {
      const mapped = map(raw)
      if (mapped) {
        error = mapped as AnyError
        break
      }
    }
    if (error !== raw && (error.statusCode ?? 500) >= 500) {
      request.log.warn({ err: raw }, 'dependency failure')
    }
    const problem = buildProblem(request, error)
    if (problem.code === 'INTERNAL') {
      // The cause is logged for operators, never sent. Deliberate 503s (a full queue, shed
      // load, shutting down) are not errors of ours and are not logged as such.
      request.log.error({ err: raw }, 'request failed')
    }
    return sendProblem(reply, problem, error.retryAfter)
  })
  app.setNotFoundHandler((_request, reply) => reply.send(new NoRoute()))
}
