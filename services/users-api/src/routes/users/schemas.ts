import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import { NameSchema, PasswordInputSchema, UserSchema } from '../auth/schemas.js'

const bearer = [{ bearer: [] }]
const ObjectIdSchema = Type.String({ pattern: '^[0-9a-f]{24}$' })

export const SessionInfoSchema = Type.Object(
  {
    id: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Type.String({ format: 'date-time' }),
    userAgent: Type.String(),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
)

export const getMeRoute = {
  summary: 'The signed-in user',
  tags: ['users'],
  security: bearer,
  response: { 200: UserSchema, ...problemResponses(401, 503) },
}

export const patchMeRoute = {
  summary: 'Change the signed-in user’s name',
  tags: ['users'],
  security: bearer,
  body: Type.Object({ name: NameSchema }, { additionalProperties: false }),
  response: { 200: UserSchema, ...problemResponses(400, 401, 413, 415, 503) },
}

export const changePasswordRoute = {
  summary: 'Change the password; ends every other session',
  tags: ['users'],
  security: bearer,
  body: Type.Object(
    { currentPassword: PasswordInputSchema, newPassword: PasswordInputSchema },
    { additionalProperties: false },
  ),
  response: { 204: Type.Null(), ...problemResponses(400, 401, 413, 415, 429, 503) },
}

export const deleteMeRoute = {
  summary: 'Delete the signed-in user and all its sessions',
  tags: ['users'],
  security: bearer,
  body: Type.Object({ password: PasswordInputSchema }, { additionalProperties: false }),
  response: { 204: Type.Null(), ...problemResponses(400, 401, 413, 415, 429, 503) },
}

export const listSessionsRoute = {
  summary: 'The signed-in user’s sessions',
  tags: ['sessions'],
  security: bearer,
  response: {
    200: Type.Object({ items: Type.Array(SessionInfoSchema) }, { additionalProperties: false }),
    ...problemResponses(401, 503),
  },
}

export const revokeSessionRoute = {
  summary: 'End one of the signed-in user’s sessions',
  tags: ['sessions'],
  security: bearer,
  params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) }),
  response: { 204: Type.Null(), ...problemResponses(400, 401, 404, 503) },
}

export const listUsersRoute = {
  summary: 'All users, paged (admin)',
  tags: ['admin'],
  security: bearer,
  querystring: Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'default 20' })),
      cursor: Type.Optional(ObjectIdSchema),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object(
      { items: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
      { additionalProperties: false },
    ),
    ...problemResponses(400, 401, 403, 503),
  },
}

const byId = { params: Type.Object({ id: ObjectIdSchema }) }

export const getUserRoute = {
  summary: 'One user (admin)',
  tags: ['admin'],
  security: bearer,
  ...byId,
  response: { 200: UserSchema, ...problemResponses(400, 401, 403, 404, 503) },
}

export const deleteUserRoute = {
  summary: 'Delete a user and all its sessions (admin)',
  tags: ['admin'],
  security: bearer,
  ...byId,
  response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404, 503) },
}
