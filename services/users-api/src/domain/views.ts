import type { Role, UserRecord } from '../db/user-model.js'
import type { SessionState } from '../db/session-model.js'

/** What leaves the service about a user: never a hash, never a token. */
export interface UserView {
  id: string
  email: string
  emailVerified: boolean
  name: string
  roles: Role[]
  hasPassword: boolean
  mfaEnabled: boolean
  disabled: boolean
  createdAt: string
  updatedAt: string
}

export interface SessionView {
  user: UserView
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  expiresIn: number
}

export interface SessionInfoView {
  id: string
  createdAt: string
  lastUsedAt: string
  userAgent: string
  current: boolean
}

export function toUserView(
  user: Pick<
    UserRecord,
    | '_id'
    | 'email'
    | 'name'
    | 'roles'
    | 'hasPassword'
    | 'emailVerified'
    | 'mfaEnabled'
    | 'disabled'
    | 'createdAt'
    | 'updatedAt'
  >,
): UserView {
  return {
    id: user._id.toString(),
    email: user.email,
    emailVerified: user.emailVerified ?? false,
    name: user.name,
    roles: user.roles,
    hasPassword: user.hasPassword ?? true,
    mfaEnabled: user.mfaEnabled ?? false,
    disabled: user.disabled ?? false,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  }
}

export function toSessionInfo(session: SessionState, currentId: string): SessionInfoView {
  return {
    id: session._id,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    userAgent: session.userAgent,
    current: session._id === currentId,
  }
}
