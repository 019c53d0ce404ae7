import { Types } from 'mongoose'
import { driverCollection, type Database } from './database.js'
import type { UserRecord } from './user-model.js'

/** What a session needs to know about its user, and what a reply shows. */
export type SessionUser = Pick<
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
  | 'credentialVersion'
>

export const sessionUserFields = {
  email: 1,
  name: 1,
  roles: 1,
  hasPassword: 1,
  emailVerified: 1,
  mfaEnabled: 1,
  disabled: 1,
  createdAt: 1,
  updatedAt: 1,
  credentialVersion: 1,
} as const

export interface NewUser {
  email: string
  name: string
  /** Absent for an account made by social login alone. */
  passwordHash?: string
  emailVerified?: boolean
  roles: UserRecord['roles']
  now: Date
}

/** The fields a session reads, picked from a whole record (findAndModify takes no projection). */
function pickSessionUser(user: UserRecord): SessionUser {
  const { _id, email, name, roles, hasPassword, emailVerified, mfaEnabled, disabled } = user
  const { createdAt, updatedAt, credentialVersion } = user
  return {
    _id,
    email,
    name,
    roles,
    hasPassword,
    emailVerified,
    mfaEnabled,
    disabled,
    createdAt,
    updatedAt,
    credentialVersion,
  }
}

/** Every query on users, named for what it does. */
export function userQueries({ users, principalStamps }: Database) {
  // Signup, login and every refresh read or write here: straight to the driver.
  const userCollection = () => driverCollection(users)
  // Every change to a user makes its cached principals stale on every replica.
  const changing = <T>(id: Types.ObjectId, write: () => Promise<T>) =>
    principalStamps.around({ userId: id.toString() }, write)

  return {
    async emailTaken(email: string): Promise<boolean> {
      return (await userCollection().findOne({ email }, { projection: { _id: 1 } })) !== null
    },

    /** Throws a duplicate-key error when the email is taken (the unique index decides). */
    async insert(user: NewUser): Promise<SessionUser> {
      const created: SessionUser = {
        _id: new Types.ObjectId(),
        email: user.email,
        name: user.name,
        hasPassword: user.passwordHash !== undefined,
        emailVerified: user.emailVerified ?? false,
        mfaEnabled: false,
        disabled: false,
        roles: user.roles,
        credentialVersion: 0,
        createdAt: user.now,
        updatedAt: user.now,
      }
      await userCollection().insertOne({
        ...created,
        ...(user.passwordHash === undefined ? {} : { passwordHash: user.passwordHash }),
        passwordChangedAt: user.now,
      })
      return created
    },

    /** The user with its hash, read in one go so hash and credential version agree. */
    findForLogin(email: string): Promise<(SessionUser & { passwordHash?: string }) | null> {
      return userCollection().findOne<SessionUser & { passwordHash?: string }>(
        { email },
        { projection: { ...sessionUserFields, passwordHash: 1 } },
      )
    },

    findByEmail(email: string): Promise<SessionUser | null> {
      return userCollection().findOne<SessionUser>({ email }, { projection: sessionUserFields })
    },

    async findPasswordHash(id: Types.ObjectId): Promise<string | null> {
      const user = await users.findById(id, { passwordHash: 1 }).lean()
      return user?.passwordHash ?? null
    },

    findById(id: Types.ObjectId | string): Promise<SessionUser | null> {
      if (typeof id === 'string' && !Types.ObjectId.isValid(id)) return Promise.resolve(null)
      return userCollection().findOne<SessionUser>(
        { _id: typeof id === 'string' ? new Types.ObjectId(id) : id },
        // Never a secondary's older view: a refresh or a mailed link acts on what this says.
        { projection: sessionUserFields, readPreference: 'primary' },
      )
    },

    /** Replaces a hash (a rehash at login) unless the password changed meanwhile. */
    async replaceHash(id: Types.ObjectId, oldHash: string, newHash: string): Promise<void> {
      await users.updateOne({ _id: id, passwordHash: oldHash }, { $set: { passwordHash: newHash } })
    },

    /**
     * Applies a credential change and raises the credential version in one atomic update;
     * returns the new version, or undefined when the user is gone.
     */
    async changeCredentials(
      id: Types.ObjectId,
      set: Partial<Pick<UserRecord, 'passwordHash' | 'passwordChangedAt' | 'email'>>,
      ifVersion?: number,
    ): Promise<number | undefined> {
      // Accounts stored before the version existed are at version 0 without the field.
      const version =
        ifVersion === undefined
          ? {}
          : { credentialVersion: ifVersion === 0 ? { $in: [0, null] } : ifVersion }
      const user = await changing(id, () =>
        users
          .findOneAndUpdate(
            { _id: id, ...version },
            { $set: set, $inc: { credentialVersion: 1 } },
            { returnDocument: 'after' },
          )
          // No projection at all: FerretDB's findAndModify refuses one.
          .select('+passwordHash')
          .lean()
          .exec(),
      )
      return user?.credentialVersion
    },

    async rename(id: Types.ObjectId, name: string): Promise<SessionUser | null> {
      const user = await changing(id, () =>
        users
          .findByIdAndUpdate(id, { $set: { name } }, { returnDocument: 'after' })
          // No projection at all (FerretDB's findAndModify refuses one); the fields are picked here.
          .select('+passwordHash')
          .lean()
          .exec(),
      )
      if (!user) return null
      return pickSessionUser(user)
    },

    /** An admin's change of standing that ends no session (roles, verified, enabling). */
    async setStanding(
      id: Types.ObjectId,
      set: Partial<Pick<UserRecord, 'roles' | 'emailVerified' | 'disabled'>>,
    ): Promise<boolean> {
      const { matchedCount } = await changing(id, () =>
        users.updateOne({ _id: id }, { $set: set }).exec(),
      )
      return matchedCount > 0
    },

    async delete(id: Types.ObjectId): Promise<boolean> {
      const { deletedCount } = await changing(id, () => users.deleteOne({ _id: id }).exec())
      return deletedCount > 0
    },

    /** One page by ascending id, after `cursor`; one more than asked, to tell if more follow. */
    page(cursor: string | undefined, limit: number): Promise<SessionUser[]> {
      const filter = cursor ? { _id: { $gt: new Types.ObjectId(cursor) } } : {}
      return users
        .find(filter, sessionUserFields)
        .sort({ _id: 1 })
        .limit(limit + 1)
        .lean<SessionUser[]>()
        .exec()
    },
  }
}
