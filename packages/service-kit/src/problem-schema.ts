import { Type, type TSchema } from 'typebox'
import { problemCodes, type ProblemCode } from './problem-codes.js'

const text = (maxLength: number) => Type.String({ maxLength })

/** The RFC 9457 body every error answer carries; routes declare it per error status. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri', maxLength: 200, description: 'urn:users-auth:problem:…' }),
    title: text(200),
    status: Type.Integer({ minimum: 400, maximum: 599, format: 'int32' }),
    detail: text(2000),
    code: Type.String({ enum: Object.keys(problemCodes) }),
    traceId: Type.String({
      maxLength: 128,
      description: 'The trace id when tracing is on, else the request id (X-Request-Id)',
    }),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: text(1024), message: text(1024) }), { maxItems: 100 }),
    ),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
)

/** The problem body of a status that may be MFA_REQUIRED: it adds the sign-in's `mfaToken`. */
const MfaRequiredProblemSchema = Type.Object(
  {
    ...ProblemSchema.properties,
    mfaToken: Type.Optional(
      Type.String({
        minLength: 43,
        maxLength: 43,
        pattern: '^[A-Za-z0-9_-]{43}$',
        description:
          'MFA_REQUIRED only: send it with a code to POST /v1/auth/mfa/verify (5 minutes, single use)',
      }),
    ),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
)

// The code a bare status stands for when a route names only the status.
const codeOfStatus: Partial<Record<number, ProblemCode>> = {}
for (const [code, { status }] of Object.entries(problemCodes) as [
  ProblemCode,
  { status: number },
][]) {
  codeOfStatus[status] ??= code
}

/**
 * `{ 400: Problem, 401: Problem, … }` for a route's response map, from statuses or from the
 * catalogue codes the route can answer (which then become the document's examples).
 */
export function problemResponses(...answers: (number | ProblemCode)[]): Record<number, TSchema> {
  const byStatus = new Map<number, ProblemCode[]>()
  for (const answer of answers) {
    const code = typeof answer === 'number' ? codeOfStatus[answer] : answer
    if (!code) throw new Error(`no problem code answers with status ${String(answer)}`)
    const { status } = problemCodes[code]
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, codes]) => [
      status,
      Type.Unsafe({
        ...(codes.includes('MFA_REQUIRED') ? MfaRequiredProblemSchema : ProblemSchema),
        'x-problem-codes': codes,
      }),
    ]),
  )
}
