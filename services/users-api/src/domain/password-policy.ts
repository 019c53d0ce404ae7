import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core'
import * as common from '@zxcvbn-ts/language-common'
import * as english from '@zxcvbn-ts/language-en'
import { dictionaryMatchers, type Dictionaries } from './password-dictionary.js'

/**
 * NIST SP 800-63B-4 for a password used alone: a minimum length, no composition rules, and
 * no common, expected or context-specific value (blocklist, then zxcvbn's estimate).
 */
export interface PasswordPolicy {
  /** Code points after NFKC; never below 8. */
  minLength: number
}

/** Whose password it is: their own words make a password predictable. */
export interface PasswordOwner {
  email: string
  name?: string | undefined
}

export const maxPasswordLength = 128

/** The service's own name, which NIST lists among the context-specific words to refuse. */
export const serviceWords = ['users-auth', 'usersauth', 'users', 'auth']

// zxcvbn's cost grows with the square of the length it reads, and each l33t variant it tries
// is another pass over every dictionary: its defaults (256 characters, 100 variants) took
// 0.5-3 s on some 128-character inputs. The first 24 UTF-16 units and one l33t variant keep
// the worst 128-code-point input at about 2 ms of CPU on a quiet core (7 ms measured on a
// machine three times slower), and still catch every weak password we tried. Reading only a
// prefix can refuse more, never less: a prefix that is hard to guess makes the whole so.
const estimatorMaxLength = 24
const estimatorMaxL33tVariants = 1

// zxcvbn's score 4: at least 10^10 guesses. With the minimum length lowered below 10, the bar
// drops to what zxcvbn credits a random string of that length (10 guesses per character),
// so that a random password of the minimum length still passes.
function minGuessesLog10(policy: PasswordPolicy): number {
  return Math.min(10, policy.minLength)
}

/** zxcvbn's settings here, its dictionaries aside. */
export const estimatorSettings = {
  translations: english.translations,
  graphs: common.adjacencyGraphs,
  maxLength: estimatorMaxLength,
  l33tMaxSubstitutions: estimatorMaxL33tVariants,
}

export const estimatorDictionaries: Dictionaries = { ...common.dictionary, ...english.dictionary }

/** What `passwordProblem` asks of zxcvbn. */
export type StrengthEstimator = Pick<ZxcvbnFactory, 'check'>

// The dictionaries (~1 MB compressed) are unpacked and indexed once, when the service loads
// this module, so no request pays for it. zxcvbn's dictionary matchers are swapped for ones
// that look each substring up once for all dictionaries (password-dictionary.ts): zxcvbn
// gets the same matches that count, at an eighth of the CPU.
const estimator: StrengthEstimator = new ZxcvbnFactory(
  estimatorSettings,
  dictionaryMatchers(estimatorDictionaries),
)

// ~49,000 passwords seen most often in breaches (zxcvbn's common list), compared case-folded
// over the whole password, whatever its length.
const blocklist = new Set(common.dictionary['passwords-common'].map((p) => p.toLowerCase()))

export function blocklistSize(): number {
  return blocklist.size
}

/** NFKC, so the same password typed on another keyboard or OS hashes the same. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

/**
 * The owner's words as zxcvbn's user inputs: the email, its local part and domain, the name,
 * each also split into its parts, and the service's name. Parts under 3 characters are left
 * out: they occur inside too many ordinary words.
 */
export function ownerWords(owner: PasswordOwner): string[] {
  const email = owner.email.trim().toLowerCase()
  const [local = '', domain = ''] = email.split('@')
  const name = (owner.name ?? '').normalize('NFKC').trim().toLowerCase()
  const words = [
    email,
    local,
    domain,
    ...local.split(/[._+-]+/),
    ...domain.split('.').slice(0, -1),
    name,
    name.replace(/\s+/g, ''),
    ...name.split(/\s+/),
    ...serviceWords,
  ]
  return [...new Set(words.filter((word) => Array.from(word).length >= 3))]
}

const ownWordsReason = "must not be built from your email address, your name or the service's name"

// zxcvbn reads only the first 24 characters, so an owner's word longer than that (a long
// local part or name) slips past its user inputs. This looks at the whole password: the
// share of it covered by owner words of 4 or more characters, found by plain substring
// search (a few dozen words over at most 512 UTF-16 units: microseconds).
const minOwnerWordLength = 4

function mostlyOwnerWords(folded: string, words: string[]): boolean {
  const covered = new Uint8Array(folded.length)
  for (const word of words) {
    if (Array.from(word).length < minOwnerWordLength) continue
    for (let at = folded.indexOf(word); at !== -1; at = folded.indexOf(word, at + 1)) {
      covered.fill(1, at, at + word.length)
    }
  }
  const ownerUnits = covered.reduce((sum, unit) => sum + unit, 0)
  return ownerUnits * 2 >= folded.length
}

function guessable(result: ZxcvbnResult): string {
  const fromOwner = result.sequence.some(
    (match) => match.pattern === 'dictionary' && match.dictionaryName === 'userInputs',
  )
  if (fromOwner) return ownWordsReason
  const { warning, suggestions } = result.feedback
  const advice = [warning, ...suggestions].filter(Boolean).join(' ')
  return `is too easy to guess. ${advice || 'Add more words that are less common.'}`
}

/**
 * Returns why a new password is refused, or undefined when it is acceptable. Never echoes it.
 * `zxcvbn` is for the test that holds this to zxcvbn's stock matchers.
 */
export function passwordProblem(
  password: string,
  owner: PasswordOwner,
  policy: PasswordPolicy,
  zxcvbn: StrengthEstimator = estimator,
): string | undefined {
  const normalized = normalizePassword(password)
  // Code points, not UTF-16 units: an emoji counts once.
  const length = Array.from(normalized).length
  if (length < policy.minLength) return `must be at least ${policy.minLength} characters`
  if (length > maxPasswordLength) return `must be at most ${maxPasswordLength} characters`
  const folded = normalized.toLowerCase()
  if (blocklist.has(folded)) return 'is too common; choose a less predictable password'
  if (folded.trim() === owner.email.trim().toLowerCase()) return 'must not be your email address'
  const words = ownerWords(owner)
  if (mostlyOwnerWords(folded, words)) return ownWordsReason
  const result = zxcvbn.check(normalized, words)
  if (result.guessesLog10 < minGuessesLog10(policy)) return guessable(result)
  return undefined
}
