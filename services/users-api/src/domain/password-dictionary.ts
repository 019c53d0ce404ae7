import { createRequire } from 'node:module'
import {
  MatcherBaseClass,
  type DefaultFeedbackFunction,
  type DefaultScoringFunction,
  type DictionaryMatch,
  type L33tMatch,
  type Matcher,
  type MatchEstimated,
  type MatchOptions,
  type Options,
  type UserInputsOptions,
} from '@zxcvbn-ts/core'

/**
 * zxcvbn's dictionary matchers (plain, l33t, reversed, and the ones inside its word-sequence
 * matcher) look every substring up in each of the 20 ranked dictionaries in turn: ~6,000
 * property reads per pass over 24 characters, six passes per password, ~3 ms of CPU. These
 * replace them under the same names, so zxcvbn calls them in its own order and scores,
 * explains and sequences their matches itself: one walk down a trie from each index gives
 * every dictionary's rank of every word starting there.
 *
 * A word's entries keep only the dictionaries that rank it better than every dictionary before
 * them. zxcvbn's search over match sequences (scoring/index) skips a match when one already
 * seen ends at the same index with no more guesses and no longer a sequence; a match with the
 * same span and token as an earlier one and a higher rank is always such a match, so leaving
 * it out changes no result, warning or sequence.
 */

// The pieces of zxcvbn's own matching and feedback that its package does not export. The
// version is pinned in package.json; a renamed file fails here, when the service loads.
const zxcvbnRequire = createRequire(import.meta.url)
const zxcvbnPart = (path: string): unknown => zxcvbnRequire(`@zxcvbn-ts/core/dist/${path}.cjs`)

interface IndexedChange {
  i: number
  letter: string
  substitution: string
}
interface PasswordWithSubs {
  password: string
  changes: IndexedChange[]
  isFullSubstitution: boolean
}
type GetCleanPasswords = (
  password: string,
  limit: number,
  trieRoot: Options['trieNodeRoot'],
) => PasswordWithSubs[]
interface DictionaryPass {
  match(matchOptions: MatchOptions): DictionaryMatch[]
}
interface WordSequenceMatching extends MatcherBaseClass {
  dictionary: DictionaryPass
  dictionaryL33t: DictionaryPass
  dictionaryReverse: DictionaryPass
  match(matchOptions: MatchOptions): ReturnType<MatcherBaseClass['match']>
}
type WordSequenceConstructor = new (options: Options) => WordSequenceMatching

const getCleanPasswords = zxcvbnPart(
  'matcher/dictionary/variants/matching/unmunger/getCleanPasswords',
) as GetCleanPasswords
const MatchWordSequence = zxcvbnPart('matcher/wordSequence/matching') as WordSequenceConstructor
const estimate = zxcvbnPart('scoring/estimate') as (
  options: Options,
  match: DictionaryMatch,
  password: string,
) => MatchEstimated
const builtIn = (pattern: string): Pick<Matcher, 'feedback' | 'scoring'> => ({
  feedback: zxcvbnPart(`matcher/${pattern}/feedback`) as DefaultFeedbackFunction,
  scoring: zxcvbnPart(`matcher/${pattern}/scoring`) as DefaultScoringFunction,
})

export type Dictionaries = Record<string, (string | number)[]>

/**
 * Every word of the dictionaries in a trie over UTF-16 units, so that the substrings starting
 * at one index are looked up together, one step per character, and the search stops where no
 * word goes on. A word's entries are in dictionary order, each ranking it strictly better than
 * the one before. Typed arrays keep its ~430,000 nodes in ~8 MB.
 */
class Lexicon {
  private readonly dictionaryNames: string[]
  // Node 0 is the root; a node's children are contiguous and sorted by their unit.
  private readonly firstChild: Int32Array
  private readonly childCount: Int32Array
  private readonly unit: Uint16Array
  // The entries of the word ending at node k are entryFrom[k] to entryFrom[k + 1] - 1.
  private readonly entryFrom: Int32Array
  private readonly entryDictionary: Uint8Array
  private readonly entryRank: Int32Array
  readonly maxWordLength: number

  constructor(dictionaries: Dictionaries) {
    this.dictionaryNames = Object.keys(dictionaries)
    // Per word, its entries as [dictionary, rank, dictionary, rank…].
    const words = new Map<string, number[]>()
    this.dictionaryNames.forEach((name, dictionary) => {
      dictionaries[name]?.forEach((value, index) => {
        const word = String(value)
        const rank = index + 1
        const entries = words.get(word)
        if (!entries) {
          words.set(word, [dictionary, rank])
          return
        }
        // As zxcvbn ranks a list: a repeated word takes its last place.
        if (entries.at(-2) === dictionary) entries.length -= 2
        if (this.base(dictionary, rank) < this.lastBase(entries)) entries.push(dictionary, rank)
      })
    })
    const sorted = [...words.keys()].sort()
    const bound = sorted.reduce((units, word) => units + word.length, 1)
    // Breadth first: node k covers sorted[from[k]] to sorted[to[k] - 1], the words sharing
    // their first depth[k] units.
    const from = new Int32Array(bound)
    const to = new Int32Array(bound)
    const depth = new Int32Array(bound)
    const unit = new Uint16Array(bound)
    const firstChild = new Int32Array(bound)
    const childCount = new Int32Array(bound)
    const entryFrom = new Int32Array(bound + 1)
    const entryDictionary: number[] = []
    const entryRank: number[] = []
    to[0] = sorted.length
    let count = 1
    for (let node = 0; node < count; node += 1) {
      let start = from[node] ?? 0
      const end = to[node] ?? 0
      const at = depth[node] ?? 0
      const first = sorted[start]
      if (start < end && first !== undefined && first.length === at) {
        const entries = words.get(first) ?? []
        for (let k = 0; k < entries.length; k += 2) {
          entryDictionary.push(entries[k] ?? 0)
          entryRank.push(entries[k + 1] ?? 0)
        }
        start += 1
      }
      entryFrom[node + 1] = entryRank.length
      firstChild[node] = count
      while (start < end) {
        const code = sorted[start]?.charCodeAt(at) ?? 0
        let stop = start + 1
        while (stop < end && sorted[stop]?.charCodeAt(at) === code) stop += 1
        from[count] = start
        to[count] = stop
        depth[count] = at + 1
        unit[count] = code
        count += 1
        start = stop
      }
      childCount[node] = count - (firstChild[node] ?? 0)
    }
    this.firstChild = firstChild.slice(0, count)
    this.childCount = childCount.slice(0, count)
    this.unit = unit.slice(0, count)
    this.entryFrom = entryFrom.slice(0, count + 1)
    this.entryDictionary = Uint8Array.from(entryDictionary)
    this.entryRank = Int32Array.from(entryRank)
    this.maxWordLength = sorted.reduce((max, word) => Math.max(max, word.length), 0)
  }

  /** What zxcvbn's dictionary scoring multiplies: the rank, or its fixed diceware figure. */
  private base(dictionary: number, rank: number): number {
    return this.dictionaryNames[dictionary] === 'diceware' ? 6 ** 5 / 2 : rank
  }

  private lastBase(entries: number[]): number {
    const dictionary = entries.at(-2)
    const rank = entries.at(-1)
    return dictionary === undefined || rank === undefined ? Infinity : this.base(dictionary, rank)
  }

  /** The node one unit below `node`, or -1. */
  step(node: number, code: number): number {
    let low = this.firstChild[node] ?? 0
    let high = low + (this.childCount[node] ?? 0) - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const found = this.unit[middle] ?? -1
      if (found === code) return middle
      if (found < code) low = middle + 1
      else high = middle - 1
    }
    return -1
  }

  /** Whether a word ends at `node`. */
  isWord(node: number): boolean {
    return (this.entryFrom[node + 1] ?? 0) > (this.entryFrom[node] ?? 0)
  }

  /** The rank each dictionary gives the word ending at `node`, in dictionary order. */
  forEachEntry(node: number, found: (rank: number, dictionaryName: string) => void): void {
    const last = this.entryFrom[node + 1] ?? 0
    for (let entry = this.entryFrom[node] ?? 0; entry < last; entry += 1) {
      const dictionary = this.entryDictionary[entry] ?? 0
      found(this.entryRank[entry] ?? 0, this.dictionaryNames[dictionary] ?? '')
    }
  }

  /** The lowest base any dictionary gives `word`. */
  bestBase(word: string): number {
    let node = 0
    for (let k = 0; k < word.length && node >= 0; k += 1) node = this.step(node, word.charCodeAt(k))
    if (node < 0 || !this.isWord(node)) return Infinity
    const last = (this.entryFrom[node + 1] ?? 0) - 1
    return this.base(this.entryDictionary[last] ?? 0, this.entryRank[last] ?? 0)
  }
}

/**
 * The matches zxcvbn's plain dictionary matcher reports that can change its result; zxcvbn
 * sorts them by span, where each dictionary's come before the user inputs' as in its own order.
 * `wanted` narrows the spans kept (the l33t pass only needs those holding a substitution).
 */
function dictionaryMatches(
  password: string,
  lexicon: Lexicon,
  user: UserInputsOptions | undefined,
  wanted?: (i: number, j: number) => boolean,
): DictionaryMatch[] {
  const matches: DictionaryMatch[] = []
  const length = password.length
  const lower = password.toLowerCase()
  const push = (i: number, j: number, rank: number, dictionaryName: string) => {
    matches.push({
      pattern: 'dictionary',
      i,
      j,
      token: password.slice(i, j + 1),
      matchedWord: lower.slice(i, j + 1),
      rank,
      dictionaryName,
      reversed: false,
      l33t: false,
    })
  }
  for (let i = 0; i < length; i += 1) {
    let node = 0
    for (let j = i; j < length; j += 1) {
      node = lexicon.step(node, lower.charCodeAt(j))
      if (node < 0) break
      if (!lexicon.isWord(node) || (wanted && !wanted(i, j))) continue
      lexicon.forEachEntry(node, (rank, dictionaryName) => {
        push(i, j, rank, dictionaryName)
      })
    }
  }
  if (!user) return matches
  // zxcvbn reads no substring longer than its longest word, but for the whole password.
  const width = Math.max(lexicon.maxWordLength, user.rankedDictionaryMaxWordSize)
  // Its user inputs are a plain object: only its own keys are words.
  for (const [word, rank] of Object.entries(user.rankedDictionary)) {
    if (word === '') continue
    for (let i = lower.indexOf(word); i !== -1; i = lower.indexOf(word, i + 1)) {
      const j = i + word.length - 1
      if (j >= length) break
      if (word.length > width && !(i === 0 && j === length - 1)) continue
      if (wanted && !wanted(i, j)) continue
      if (rank < lexicon.bestBase(word)) push(i, j, rank, 'userInputs')
    }
  }
  return matches
}

function reversedMatches(
  password: string,
  lexicon: Lexicon,
  user: UserInputsOptions | undefined,
): DictionaryMatch[] {
  const reversed = password.split('').reverse().join('')
  return dictionaryMatches(reversed, lexicon, user).map((match) => ({
    ...match,
    token: match.token.split('').reverse().join(''),
    reversed: true,
    i: password.length - 1 - match.j,
    j: password.length - 1 - match.i,
  }))
}

// zxcvbn's l33t matcher's mapping of a match in a substituted password back onto the typed one.
function unsubstituted(subbed: PasswordWithSubs, i: number, j: number) {
  let iUnsubbed = i
  let jUnsubbed = j
  const subs: { letter: string; substitution: string }[] = []
  const subDisplay: string[] = []
  const seen = new Set<string>()
  for (const change of subbed.changes) {
    if (change.i < i) {
      const diff = change.substitution.length - change.letter.length
      iUnsubbed += diff
      jUnsubbed += diff
    } else if (change.i <= j) {
      jUnsubbed += change.substitution.length - change.letter.length
      const key = `${change.letter}-${change.substitution}`
      if (!seen.has(key)) {
        seen.add(key)
        subs.push({ letter: change.letter, substitution: change.substitution })
        subDisplay.push(`${change.substitution} -> ${change.letter}`)
      }
    }
  }
  return { i: iUnsubbed, j: jUnsubbed, subs, subDisplay: subDisplay.join(', ') }
}

// Which substrings of a substituted password can give a match zxcvbn's l33t matcher keeps: those
// holding a change, and the whole (a full-length match ends its search). That a substring
// without a change gives none holds when lower-casing is per character and keeps the length,
// which printable ASCII guarantees; other passwords are looked at whole, as zxcvbn does.
function worthLookingUp(subbed: PasswordWithSubs): ((i: number, j: number) => boolean) | undefined {
  const { password, changes } = subbed
  if (/[^ -~]/.test(password)) return undefined
  // changesUpTo[k]: how many substituted characters precede index k.
  const changesUpTo = new Uint16Array(password.length + 1)
  const changed = new Uint8Array(password.length)
  for (const change of changes) changed.fill(1, change.i, change.i + change.letter.length)
  changed.forEach((flag, k) => (changesUpTo[k + 1] = (changesUpTo[k] ?? 0) + flag))
  const last = password.length - 1
  return (i, j) => (changesUpTo[j + 1] ?? 0) > (changesUpTo[i] ?? 0) || (i === 0 && j === last)
}

// zxcvbn's l33t matcher keeps only matches that hold a substitution (a match without one is
// the plain matcher's) and that are longer than one character.
function l33tMatches(
  password: string,
  options: Options,
  lexicon: Lexicon,
  user: UserInputsOptions | undefined,
): L33tMatch[] {
  const matches: L33tMatch[] = []
  let hasFullMatch = false
  const variants = getCleanPasswords(password, options.l33tMaxSubstitutions, options.trieNodeRoot)
  for (const subbed of variants) {
    if (hasFullMatch) break
    for (const match of dictionaryMatches(subbed.password, lexicon, user, worthLookingUp(subbed))) {
      const extras = unsubstituted(subbed, match.i, match.j)
      if (!hasFullMatch) hasFullMatch = extras.i === 0 && extras.j === password.length - 1
      const token = password.slice(extras.i, extras.j + 1)
      const l33tMatch: L33tMatch = { ...match, l33t: true, token, ...extras }
      const included = matches.some(
        (seen) =>
          seen.i === l33tMatch.i &&
          seen.j === l33tMatch.j &&
          seen.dictionaryName === l33tMatch.dictionaryName &&
          seen.matchedWord === l33tMatch.matchedWord,
      )
      if (token.toLowerCase() !== match.matchedWord && !included) matches.push(l33tMatch)
    }
  }
  return matches.filter((match) => match.token.length > 1)
}

/**
 * Custom matchers for `new ZxcvbnFactory(options, …)` that stand in for zxcvbn's dictionary,
 * l33t, reversed and word-sequence matchers over `dictionaries`; the factory then needs no
 * `dictionary` option. User inputs are matched as zxcvbn matches them.
 */
export function dictionaryMatchers(dictionaries: Dictionaries): Record<string, Matcher> {
  const lexicon = new Lexicon(dictionaries)

  // zxcvbn estimates a match's guesses anew each time its sequence search weighs it (once per
  // sequence length before it), unless the match carries them already (scoring/estimate).
  // These matches come with zxcvbn's own estimate, made once.
  const estimated = (options: Options, password: string, matches: DictionaryMatch[]) =>
    matches.map((match) => estimate(options, match, password))
  class Plain extends MatcherBaseClass {
    match({ password, userInputsOptions }: MatchOptions) {
      return estimated(
        this.options,
        password,
        dictionaryMatches(password, lexicon, userInputsOptions),
      )
    }
  }
  class L33t extends MatcherBaseClass {
    match({ password, userInputsOptions }: MatchOptions) {
      return estimated(
        this.options,
        password,
        l33tMatches(password, this.options, lexicon, userInputsOptions),
      )
    }
  }
  class Reversed extends MatcherBaseClass {
    match({ password, userInputsOptions }: MatchOptions) {
      return estimated(
        this.options,
        password,
        reversedMatches(password, lexicon, userInputsOptions),
      )
    }
  }
  // zxcvbn's own word-sequence matcher, its three passes reading only the word-sequence
  // dictionaries (numbers, days, months…) and, as in zxcvbn, no user inputs.
  class WordSequence extends MatchWordSequence {
    constructor(options: Options) {
      super(options)
      const sequences = new Lexicon(
        Object.fromEntries(
          Object.entries(dictionaries).filter(([name]) => options.isWordSequence(name)),
        ),
      )
      this.dictionary = {
        match: ({ password }) => dictionaryMatches(password, sequences, undefined),
      }
      this.dictionaryL33t = {
        match: ({ password }) => l33tMatches(password, options, sequences, undefined),
      }
      this.dictionaryReverse = {
        match: ({ password }) => reversedMatches(password, sequences, undefined),
      }
    }
  }

  const dictionary = builtIn('dictionary')
  return {
    dictionary: { ...dictionary, Matching: Plain },
    dictionaryL33t: { ...dictionary, Matching: L33t },
    dictionaryReverse: { ...dictionary, Matching: Reversed },
    wordSequence: { ...builtIn('wordSequence'), Matching: WordSequence },
  }
}
