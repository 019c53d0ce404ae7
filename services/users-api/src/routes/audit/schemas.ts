import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import { auditEventNames } from '../../domain/audit.js'
import { ObjectIdSchema } from '../auth/schemas.js'

const bearer = [{ bearer: [] }]

const CursorSchema = Type.Union([ObjectIdSchema, Type.Null()])

export const AuditEventSchema = Type.Object(
  {
    id: ObjectIdSchema,
    at: Type.String({ format: 'date-time', maxLength: 40 }),
    event: Type.String({ maxLength: 40, description: 'One of the contract’s event names' }),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
    userId: Type.Union([ObjectIdSchema, Type.Null()], {
      description: 'The account concerned; null for a failed login to an unknown address',
    }),
    actorId: Type.Union([ObjectIdSchema, Type.Null()], {
      description: 'Who acted: the admin for admin actions, else the user',
    }),
    ip: Type.String({ maxLength: 64, description: 'The client address users-api saw' }),
    userAgent: Type.String({ maxLength: 256, description: 'As the client sent it, cut to 256' }),
    requestId: Type.String({ maxLength: 128, description: 'The request’s X-Request-Id' }),
  },
  { additionalProperties: false },
)

const AuditPageSchema = Type.Object(
  {
    items: Type.Array(AuditEventSchema, { maxItems: 100 }),
    nextCursor: CursorSchema,
  },
  { additionalProperties: false },
)

const paging = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, format: 'int32', description: 'default 20' }),
  ),
  cursor: Type.Optional(ObjectIdSchema),
}

const pagingDescription =
  'Newest first (by event id: exact within one replica, to the second across replicas), ' +
  '`limit` at a time (default 20); pass `nextCursor` as `cursor` for the next page, until it ' +
  'is null. A walk sees each event once, however many are written meanwhile.'

export const myActivityRoute = {
  operationId: 'listMyActivity',
  summary: 'The signed-in user’s audit events',
  description: `What happened to the account: sign-ins, failed ones, changes, admin actions. ${pagingDescription}`,
  tags: ['audit'],
  security: bearer,
  querystring: Type.Object(paging, { additionalProperties: false }),
  response: {
    200: AuditPageSchema,
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE'),
  },
}

export const searchAuditRoute = {
  operationId: 'searchAudit',
  summary: 'Every account’s audit events (admin)',
  description: `Filtered by \`userId\` and/or \`event\`. ${pagingDescription}`,
  tags: ['audit'],
  security: bearer,
  querystring: Type.Object(
    {
      userId: Type.Optional(ObjectIdSchema),
      event: Type.Optional(Type.Enum(auditEventNames, { description: 'One event name' })),
      ...paging,
    },
    { additionalProperties: false },
  ),
  response: {
    200: AuditPageSchema,
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'FORBIDDEN', 'SERVICE_UNAVAILABLE'),
  },
}
