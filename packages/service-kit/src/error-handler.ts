import { isSpanContextValid, trace } from '@opentelemetry/api'
import {
  errorCodes,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import { pointerPart } from './json-body.js'
import { registerMethodNotAllowed } from './method-not-allowed.js'
import { type ProblemCode, problemCodes } from './problem-codes.js'
import {
  isCatalogueError,
  problemError,
  type ProblemDetails,
  type ValidationIssue,
} from './problem-error.js'

const NoRoute = problemError('NOT_FOUND', 'There is no such route or resource.')
const SchemaMismatch = problemError('VALIDATION_FAILED', 'The request does not match the schema.')
const WrongMethod = problemError(
  'METHOD_NOT_ALLOWED',
  'This route does not accept this method; the Allow header lists those it does.',
)

export const problemContentType = 'application/problem+json; charset=utf-8'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: ProblemCode
  traceId: string
  errors?: ValidationIssue[]
  mfaToken?: string
}

// Fastify's own errors, known by their classes (a `code` string alone proves nothing), mapped
// onto the contract's codes with a sentence of ours.
const frameworkErrors: [new () => Error, ProblemCode, string][] = [
  [
    errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY,
    'VALIDATION_FAILED',
    'The request body is empty but its content type is JSON.',
  ],
  [
    errorCodes.FST_ERR_CTP_INVALID_JSON_BODY,
    'VALIDATION_FAILED',
    'The request body is not valid JSON.',
  ],
  [
    errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH,
    'VALIDATION_FAILED',
    'The request body does not match its Content-Length.',
  ],
  [
    errorCodes.FST_ERR_CTP_BODY_TOO_LARGE,
    'PAYLOAD_TOO_LARGE',
    'The request body is larger than allowed.',
  ],
  [
    errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE,
    'UNSUPPORTED_MEDIA_TYPE',
    'The request body must be application/json.',
  ],
  [errorCodes.FST_ERR_NOT_FOUND, 'NOT_FOUND', 'There is no such route or resource.'],
  [errorCodes.FST_ERR_BAD_URL, 'VALIDATION_FAILED', 'The request URL is malformed.'],
  [errorCodes.FST_ERR_MAX_PARAM_LENGTH, 'VALIDATION_FAILED', 'A path parameter is too long.'],
]

type AnyError = FastifyError & ProblemDetails & { validation?: FastifyError['validation'] }

/**
 * What the client is told: errors of our catalogue as they are, Fastify's own as mapped, and
 * anything else (another service's answer, a driver's or a library's error, whatever `code`
 * or `statusCode` it carries) as 500 INTERNAL.
 */
function classify(error: AnyError): { code: ProblemCode; detail: string } {
  if (isCatalogueError(error)) return { code: error.code, detail: error.message }
  for (const [ErrorClass, code, detail] of frameworkErrors) {
    if (error instanceof ErrorClass) return { code, detail }
  }
  return { code: 'INTERNAL', detail: 'An unexpected error occurred.' }
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
          path: `${prefix}${v.instancePath}/${pointerPart(name)}`,
          message: 'is not an allowed field',
        })
      }
      continue
    }
    if (v.keyword === 'required' && params.requiredProperties) {
      for (const name of params.requiredProperties) {
        issues.push({
          path: `${prefix}${v.instancePath}/${pointerPart(name)}`,
          message: 'is required',
        })
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
  const { code, detail } = classify(error)
  const { status, title } = problemCodes[code]
  const problem: Problem = {
    type: `urn:users-auth:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    code,
    traceId: traceIdOf(request),
  }
  if (code === 'VALIDATION_FAILED' && isCatalogueError(error)) {
    const issues = validationIssues(error)
    if (issues) problem.errors = issues
  }
  // The second sign-in step's handle: the one problem that carries more than the catalogue's.
  if (code === 'MFA_REQUIRED' && isCatalogueError(error) && typeof error.mfaToken === 'string') {
    problem.mfaToken = error.mfaToken
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

/**
 * A refusal for lack of capacity (a dependency at capacity sheds load). An error says it is one
 * with a `loadShedding: true` property, so that clients need not depend on this kit.
 */
const isLoadShedding = (error: unknown): boolean =>
  (error as { loadShedding?: unknown } | null)?.loadShedding === true

/** Shed load is logged at most this often, with how much was shed since the last line. */
const sheddingLogIntervalMs = 10_000

/**
 * At most one line, without a stack, per interval in which load was shed: one line per refused
 * request would flood the logs, and cost CPU, exactly when load is highest; none at all would
 * hide a dependency that says it is at capacity for hours (a sick one may say so too). The
 * first refusal after a quiet interval is logged at once; the rest of a burst are counted and
 * logged when the interval ends, or when the app closes.
 */
function sheddingLog(app: FastifyInstance): (raw: Error) => void {
  let pending = 0
  let reason = ''
  let timer: NodeJS.Timeout | undefined
  const write = () => {
    app.log.warn({ shed: pending, reason }, 'shedding load: a dependency is at capacity')
    pending = 0
  }
  const intervalEnds = () => {
    timer = undefined
    if (pending === 0) return
    write()
    timer = setTimeout(intervalEnds, sheddingLogIntervalMs).unref()
  }
  app.addHook('onClose', (_instance, done) => {
    clearTimeout(timer)
    if (pending > 0) write()
    done()
  })
  return (raw) => {
    pending += 1
    reason = raw.message
    if (timer) return
    write()
    timer = setTimeout(intervalEnds, sheddingLogIntervalMs).unref()
  }
}

/** The one renderer: every error of the app leaves as RFC 9457 problem+json. */
export function registerProblemHandlers(app: FastifyInstance, mappers: ErrorMapper[] = []): void {
  // Schema failures are errors of our catalogue; Fastify adds the `validation` details to them.
  app.setSchemaErrorFormatter(() => new SchemaMismatch())
  const noteShedding = sheddingLog(app)
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
      if (isLoadShedding(raw)) noteShedding(raw)
      else request.log.warn({ err: raw }, 'dependency failure')
    }
    const problem = buildProblem(request, error)
    if (problem.code === 'INTERNAL') {
      // The cause is logged for operators, never sent. Deliberate 503s (a full queue, shed
      // load, shutting down) are not errors of ours and are not logged as such.
      request.log.error({ err: raw }, 'request failed')
    }
    return sendProblem(reply, problem, isCatalogueError(error) ? error.retryAfter : undefined)
  })
  const allowedMethods = registerMethodNotAllowed(app)
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request)
    if (allowed.length === 0) return reply.send(new NoRoute())
    reply.header('allow', allowed.join(', '))
    return reply.send(new WrongMethod())
  })
}
