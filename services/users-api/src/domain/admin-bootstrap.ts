import { Types } from 'mongoose'
import { isDuplicateKey } from '../db/database.js'
import type { DomainDeps } from './deps.js'
import { normalizeEmail } from './accounts.js'
import { normalizePassword, passwordProblem } from './password-policy.js'

/** admin:create refused to act; the message says why and what to do instead. */
export class AdminRefused extends Error {
  override name = 'AdminRefused'
}

export interface EnsureAdminOptions {
  /**
   * Give the admin role to an existing account (and create none). The password must then be
   * that account's current one: whoever registered the address first must not become admin
   * by waiting for an operator to run this.
   */
  promote?: boolean
}

export type AdminOutcome = 'created' | 'promoted' | 'already admin'

/** Creates a new admin account, or with `promote` makes an existing account admin. */
export async function ensureAdmin(
  deps: Pick<DomainDeps, 'db' | 'authApi' | 'now' | 'passwordPolicy'>,
  rawEmail: string,
  password: string,
  options: EnsureAdminOptions = {},
): Promise<AdminOutcome> {
  const email = normalizeEmail(rawEmail)
  return options.promote ? promote(deps, email, password) : create(deps, email, password)
}

async function create(
  deps: Pick<DomainDeps, 'db' | 'authApi' | 'now' | 'passwordPolicy'>,
  email: string,
  password: string,
): Promise<AdminOutcome> {
  const taken = (): AdminRefused =>
    new AdminRefused(
      `an account with the email ${email} already exists; to make it an admin, run again ` +
        "with --promote and that account's current password on standard input",
    )
  // Spares an argon2 hash for an obvious duplicate; the unique index still decides.
  if (await deps.db.users.exists({ email })) throw taken()
  const problem = passwordProblem(password, { email }, deps.passwordPolicy)
  if (problem) throw new AdminRefused(`the password ${problem}`)
  const passwordHash = await deps.authApi.hashPassword(normalizePassword(password))
  try {
    await deps.db.users.create({
      _id: new Types.ObjectId(),
      email,
      name: '',
      passwordHash,
      roles: ['user', 'admin'],
      passwordChangedAt: deps.now(),
    })
  } catch (error) {
    if (isDuplicateKey(error)) throw taken()
    throw error
  }
  return 'created'
}

async function promote(
  deps: Pick<DomainDeps, 'db' | 'authApi'>,
  email: string,
  password: string,
): Promise<AdminOutcome> {
  const user = await deps.db.users
    .findOne({ email }, { passwordHash: 1, roles: 1 })
    .select('+passwordHash')
    .lean()
  if (!user) {
    throw new AdminRefused(
      `no account has the email ${email}; run without --promote to create a new admin`,
    )
  }
  const { valid } = await deps.authApi.verifyPassword(
    normalizePassword(password),
    user.passwordHash ?? null,
  )
  if (!valid) {
    throw new AdminRefused(`the password is not the current password of ${email}; nothing changed`)
  }
  if (user.roles.includes('admin')) return 'already admin'
  // Only while the password is still the one just verified: a change in between means the
  // account is no longer known to be the operator's.
  const { matchedCount } = await deps.db.principalStamps.around(
    { userId: user._id.toString() },
    () =>
      deps.db.users
        .updateOne(
          { _id: user._id, passwordHash: user.passwordHash },
          { $addToSet: { roles: 'admin' } },
        )
        .exec(),
  )
  if (matchedCount === 0) {
    throw new AdminRefused(`the account ${email} changed while being promoted; nothing changed`)
  }
  return 'promoted'
}
