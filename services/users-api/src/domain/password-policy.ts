import { dictionary } from '@zxcvbn-ts/language-common'

/** NIST SP 800-63B-4 for a password used alone: length, blocklist, nothing else. */
export interface PasswordPolicy {
  /** Code points after NFKC; never below 8. */
  minLength: number
}

export const maxPasswordLength = 128

// ~49,000 passwords seen most often in breaches (zxcvbn's common list), compared case-folded.
let blocklist: Set<string> | undefined
function commonPasswords(): Set<string> {
  blocklist ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()))
  return blocklist
}

export function blocklistSize(): number {
  return commonPasswords().size
}

/** NFKC, so the same password typed on another keyboard or OS hashes the same. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

/** Returns why a new password is refused, or undefined when it is acceptable. */
export function passwordProblem(
  password: string,
  email: string,
  policy: PasswordPolicy,
): string | undefined {
  const normalized = normalizePassword(password)
  // Code points, not UTF-16 units: an emoji counts once.
  const length = Array.from(normalized).length
  if (length < policy.minLength) return `must be at least ${policy.minLength} characters`
  if (length > maxPasswordLength) return `must be at most ${maxPasswordLength} characters`
  const folded = normalized.toLowerCase()
  if (commonPasswords().has(folded)) return 'is too common; choose a less predictable password'
  if (folded === email || folded.trim() === email) return 'must not be your email address'
  return undefined
}
