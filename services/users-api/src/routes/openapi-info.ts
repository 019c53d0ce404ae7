import type { OpenApiInfo } from '@users-auth/service-kit'
import { SessionSchema, UserSchema } from './auth/schemas.js'
import { AuditEventSchema } from './audit/schemas.js'
import { SessionInfoSchema } from './users/schemas.js'

/** What users-api's OpenAPI document says of itself: its tags and its named shapes. */
export const openApiInfo: OpenApiInfo = {
  title: 'users-api',
  version: '1.0.0',
  description: 'Accounts and sessions: signup, login, refresh, logout, profile, sessions, admin.',
  bearer: 'access-token',
  tags: [
    { name: 'auth', description: 'Start, renew and end sessions.' },
    { name: 'users', description: 'The signed-in user’s account.' },
    { name: 'mfa', description: 'The second factor: TOTP and recovery codes.' },
    { name: 'sessions', description: 'The signed-in user’s sessions on other devices.' },
    { name: 'email', description: 'Address verification, password reset and email change.' },
    { name: 'admin', description: 'Accounts of other users (role admin).' },
    { name: 'audit', description: 'What happened to accounts: who did what, from where.' },
    { name: 'keys', description: 'The public keys that verify access tokens.' },
    {
      name: 'social login',
      description: 'Sign in with OpenID Connect and OAuth 2 providers; link and unlink them.',
    },
  ],
  schemas: {
    User: UserSchema,
    Session: SessionSchema,
    SessionInfo: SessionInfoSchema,
    AuditEvent: AuditEventSchema,
  },
}
