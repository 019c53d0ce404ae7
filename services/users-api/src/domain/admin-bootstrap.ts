import { Types } from 'mongoose'
import type { DomainDeps } from './deps.js'
import { normalizeEmail } from './accounts.js'
import { normalizePassword, passwordProblem } from './password-policy.js'

/**
 * Creates an admin account, or gives an existing account the admin role (its password is then
 * left as it is). Returns what it did.
 */
export async function ensureAdmin(
  deps: Pick<DomainDeps, 'db' | 'authApi' | 'now' | 'passwordPolicy'>,
  rawEmail: string,
  password: string,
): Promise<'created' | 'promoted'> {
  const email = normalizeEmail(rawEmail)
  const promoted = await deps.db.users.updateOne({ email }, { $addToSet: { roles: 'admin' } })
  if (promoted.matchedCount > 0) return 'promoted'
  const problem = passwordProblem(password, { email }, deps.passwordPolicy)
  if (problem) throw new Error(`password ${problem}`)
  const passwordHash = await deps.authApi.hashPassword(normalizePassword(password))
  await deps.db.users.create({
    _id: new Types.ObjectId(),
    email,
    name: '',
    passwordHash,
    roles: ['user', 'admin'],
    passwordChangedAt: deps.now(),
  })
  return 'created'
}
