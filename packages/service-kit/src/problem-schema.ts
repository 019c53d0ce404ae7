import { Type, type TSchema } from 'typebox'
import { problemCodes } from './problem-codes.js'

/** The RFC 9457 body every error answer carries; routes declare it per error status. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ enum: Object.keys(problemCodes) }),
    traceId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
)

/** `{ 400: ProblemSchema, 401: ProblemSchema, … }` for a route's response map. */
export function problemResponses(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema]))
}
