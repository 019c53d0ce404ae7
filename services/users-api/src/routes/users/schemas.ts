import { problemResponses } from '@users-auth/service-kit'
import { Type } from 'typebox'
import {
  bodyProblems,
  NameSchema,
  NewPasswordSchema,
  ObjectIdSchema,
  PasswordInputSchema,
  SessionIdSchema,
  UserSchema,
} from '../auth/schemas.js'

const bearer = [{ bearer: [] }]

export const SessionInfoSchema = Type.Object(
  {
    id: SessionIdSchema,
    createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
    lastUsedAt: Type.String({ format: 'date-time', maxLength: 40 }),
    userAgent: Type.String({ maxLength: 256, description: 'As the client sent it, cut to 256' }),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
)

// The answers every route with a JSON body can give before its handler runs.
// A signed-in request that checks the password again, under its budgets.
const passwordCheckProblems = [
  ...bodyProblems,
  'UNAUTHORIZED',
  'INVALID_CREDENTIALS',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
] as const
// The answers every admin route can give before its handler runs.
const adminProblems = ['UNAUTHORIZED', 'FORBIDDEN', 'SERVICE_UNAVAILABLE'] as const

export const getMeRoute = {
  operationId: 'getMe',
  summary: 'The signed-in user',
  description: 'The account of the presented access token.',
  tags: ['users'],
  security: bearer,
  response: { 200: UserSchema, ...problemResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE') },
}

export const patchMeRoute = {
  operationId: 'updateMe',
  summary: 'Change the signed-in user’s name',
  description: 'Sets the display name (at most 100 characters).',
  tags: ['users'],
  security: bearer,
  body: Type.Object(
    { name: NameSchema },
    { additionalProperties: false, examples: [{ name: 'Ada Lovelace' }] },
  ),
  response: {
    200: UserSchema,
    ...problemResponses(...bodyProblems, 'UNAUTHORIZED', 'SERVICE_UNAVAILABLE'),
  },
}

export const changePasswordRoute = {
  operationId: 'changePassword',
  summary: 'Change the password; ends every other session',
  description:
    'Needs the current password (401 INVALID_CREDENTIALS when wrong); the new one must ' +
    'satisfy the policy (400 with the reason otherwise). Spends from the per-IP budget, and ' +
    'repeated wrong passwords slow the account down (429 with `Retry-After`).',
  tags: ['users'],
  security: bearer,
  body: Type.Object(
    { currentPassword: PasswordInputSchema, newPassword: NewPasswordSchema },
    {
      additionalProperties: false,
      examples: [
        {
          currentPassword: 'plum tractor velvet orbit 47',
          newPassword: 'amber walrus quietly juggles 9',
        },
      ],
    },
  ),
  response: {
    204: Type.Null(),
    ...problemResponses(...passwordCheckProblems),
  },
}

export const deleteMeRoute = {
  operationId: 'deleteMe',
  summary: 'Delete the signed-in user and all its sessions',
  description:
    'Needs the password (401 INVALID_CREDENTIALS when wrong). Spends from the per-IP budget, ' +
    'and repeated wrong passwords slow the account down (429 with `Retry-After`).',
  tags: ['users'],
  security: bearer,
  body: Type.Object(
    { password: PasswordInputSchema },
    { additionalProperties: false, examples: [{ password: 'plum tractor velvet orbit 47' }] },
  ),
  response: {
    204: Type.Null(),
    ...problemResponses(...passwordCheckProblems),
  },
}

export const listSessionsRoute = {
  operationId: 'listMySessions',
  summary: 'The signed-in user’s sessions',
  description: 'The account’s sessions, most recently used first (at most 100).',
  tags: ['sessions'],
  security: bearer,
  response: {
    200: Type.Object(
      { items: Type.Array(SessionInfoSchema, { maxItems: 100 }) },
      { additionalProperties: false },
    ),
    ...problemResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE'),
  },
}

export const revokeSessionRoute = {
  operationId: 'revokeMySession',
  summary: 'End one of the signed-in user’s sessions',
  description:
    'Its access and refresh tokens stop working at once. 404 for a session that is not ' +
    'the caller’s or no longer live.',
  tags: ['sessions'],
  security: bearer,
  params: Type.Object({ id: SessionIdSchema }),
  response: {
    204: Type.Null(),
    ...problemResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'NOT_FOUND', 'SERVICE_UNAVAILABLE'),
  },
}

export const listUsersRoute = {
  operationId: 'listUsers',
  summary: 'All users, paged (admin)',
  description:
    'Oldest first, `limit` at a time (default 20); pass `nextCursor` as `cursor` for the ' +
    'next page, until it is null.',
  tags: ['admin'],
  security: bearer,
  querystring: Type.Object(
    {
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 100, format: 'int32', description: 'default 20' }),
      ),
      cursor: Type.Optional(ObjectIdSchema),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object(
      {
        items: Type.Array(UserSchema, { maxItems: 100 }),
        nextCursor: Type.Union([ObjectIdSchema, Type.Null()]),
      },
      { additionalProperties: false },
    ),
    ...problemResponses('VALIDATION_FAILED', ...adminProblems),
  },
}

const byId = { params: Type.Object({ id: ObjectIdSchema }) }

export const getUserRoute = {
  operationId: 'getUser',
  summary: 'One user (admin)',
  description: 'The account with this id.',
  tags: ['admin'],
  security: bearer,
  ...byId,
  response: {
    200: UserSchema,
    ...problemResponses('VALIDATION_FAILED', ...adminProblems, 'NOT_FOUND'),
  },
}

export const deleteUserRoute = {
  operationId: 'deleteUser',
  summary: 'Delete a user and all its sessions (admin)',
  description: 'The account and every session of it; its tokens stop working at once.',
  tags: ['admin'],
  security: bearer,
  ...byId,
  response: {
    204: Type.Null(),
    ...problemResponses('VALIDATION_FAILED', ...adminProblems, 'NOT_FOUND'),
  },
}

export const revokeOtherSessionsRoute = {
  operationId: 'revokeMyOtherSessions',
  summary: 'End every session of the signed-in user but this one',
  description:
    'Log out everywhere else: the other sessions’ access and refresh tokens stop working at ' +
    'once, a login racing this request included. The calling session stays.',
  tags: ['sessions'],
  security: bearer,
  response: { 204: Type.Null(), ...problemResponses('UNAUTHORIZED', 'SERVICE_UNAVAILABLE') },
}

const RoleSchema = Type.Union([Type.Literal('user'), Type.Literal('admin')])

export const patchUserRoute = {
  operationId: 'updateUser',
  summary: 'Disable or enable a user, set its roles, mark its address verified (admin)',
  description:
    'Any of `disabled`, `roles`, `emailVerified` (at least one). Disabling ends every session ' +
    'of the user at once; a disabled account cannot log in (403 ACCOUNT_DISABLED, only after ' +
    'the right password), refresh or use a token. An admin cannot disable their own account ' +
    'nor remove their own admin role (403 FORBIDDEN): another admin must.',
  tags: ['admin'],
  security: bearer,
  ...byId,
  body: Type.Object(
    {
      disabled: Type.Optional(Type.Boolean()),
      roles: Type.Optional(Type.Array(RoleSchema, { minItems: 1, maxItems: 2, uniqueItems: true })),
      emailVerified: Type.Optional(Type.Boolean()),
    },
    {
      additionalProperties: false,
      minProperties: 1,
      examples: [{ disabled: true }, { roles: ['user', 'admin'] }, { emailVerified: true }],
    },
  ),
  response: {
    200: UserSchema,
    ...problemResponses(...bodyProblems, ...adminProblems, 'NOT_FOUND'),
  },
}

export const listUserSessionsRoute = {
  operationId: 'listUserSessions',
  summary: 'A user’s sessions (admin)',
  description:
    'The account’s sessions, most recently used first (at most 100); `current` is false.',
  tags: ['admin'],
  security: bearer,
  ...byId,
  response: {
    200: Type.Object(
      { items: Type.Array(SessionInfoSchema, { maxItems: 100 }) },
      { additionalProperties: false },
    ),
    ...problemResponses('VALIDATION_FAILED', ...adminProblems, 'NOT_FOUND'),
  },
}

export const endUserSessionsRoute = {
  operationId: 'revokeUserSessions',
  summary: 'End every session of a user (admin)',
  description:
    'Every access and refresh token of the account stops working at once, a login racing ' +
    'this request included. The account itself stays as it is.',
  tags: ['admin'],
  security: bearer,
  ...byId,
  response: {
    204: Type.Null(),
    ...problemResponses('VALIDATION_FAILED', ...adminProblems, 'NOT_FOUND'),
  },
}
