import { problemResponses } from '@users-auth/service-kit'
import { Type, type Static } from 'typebox'

// Shapes shared by every route that returns a user or a session.
export const UserSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    name: Type.String(),
    roles: Type.Array(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
)

export const SessionSchema = Type.Object(
  {
    user: UserSchema,
    accessToken: Type.String(),
    refreshToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'seconds' }),
  },
  { additionalProperties: false },
)

// Loose enough for real addresses (incl. surrounding spaces, which are trimmed), strict
// enough that anything else is a 400. Linear: the domain's labels exclude the dot that
// separates them, so no two parts of the pattern can claim the same character.
export const EmailSchema = Type.String({
  minLength: 3,
  maxLength: 254,
  pattern: '^\\s*[^\\s@]+@[^\\s@.]+(?:\\.[^\\s@.]+)+\\s*$',
})

/** Any password a client sends; the policy for new ones is checked in the domain. */
export const PasswordInputSchema = Type.String({ minLength: 1, maxLength: 1024 })
export const NameSchema = Type.String({ maxLength: 100 })

export const SignupBodySchema = Type.Object(
  { email: EmailSchema, password: PasswordInputSchema, name: Type.Optional(NameSchema) },
  { additionalProperties: false },
)
export type SignupBody = Static<typeof SignupBodySchema>

export const LoginBodySchema = Type.Object(
  { email: EmailSchema, password: PasswordInputSchema },
  { additionalProperties: false },
)

export const RefreshBodySchema = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
)

const bearer = [{ bearer: [] }]

export const signupRoute = {
  summary: 'Create an account and start a session',
  tags: ['auth'],
  body: SignupBodySchema,
  response: { 201: SessionSchema, ...problemResponses(400, 409, 413, 415, 429, 503) },
}

export const loginRoute = {
  summary: 'Start a session with email and password',
  tags: ['auth'],
  body: LoginBodySchema,
  response: { 200: SessionSchema, ...problemResponses(400, 401, 413, 415, 429, 503) },
}

export const refreshRoute = {
  summary: 'Rotate the refresh token and get a new access token',
  tags: ['auth'],
  body: RefreshBodySchema,
  response: { 200: SessionSchema, ...problemResponses(400, 401, 413, 415, 429, 503) },
}

export const logoutRoute = {
  summary: 'End the session of the presented access token',
  tags: ['auth'],
  security: bearer,
  response: { 204: Type.Null(), ...problemResponses(401, 503) },
}
