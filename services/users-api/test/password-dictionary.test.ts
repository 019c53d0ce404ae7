import { ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core'
import * as common from '@zxcvbn-ts/language-common'
import { describe, expect, it } from 'vitest'
import {
  estimatorDictionaries,
  estimatorSettings,
  normalizePassword,
  ownerWords,
  passwordProblem,
  type PasswordOwner,
} from '../src/domain/password-policy.js'
import { dictionaryMatchers } from '../src/domain/password-dictionary.js'

// zxcvbn as it was configured before its dictionary matchers were replaced: its own matchers
// over the same dictionaries, with the same settings.
const stock = new ZxcvbnFactory({ ...estimatorSettings, dictionary: estimatorDictionaries })

const policy = { minLength: 15 }
const ada: PasswordOwner = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' }
const grace: PasswordOwner = { email: 'g.hopper1906@navy.example', name: 'Grace Brewster Hopper' }
const plain: PasswordOwner = { email: 'a@b.co' }
const owners = [ada, grace, plain]

// A fixed seed: the corpus is the same on every run (mulberry32).
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const next = random(20261206)
const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!

const l33t: Record<string, string> = { a: '@', e: '3', i: '1', o: '0', s: '$', t: '7', l: '1' }
const leet = (word: string) => word.replace(/[aeiostl]/g, (c) => l33t[c]!)
const reverse = (word: string) => Array.from(word).reverse().join('')
const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1)

const commonPasswords = common.dictionary['passwords-common'].map(String)
// Every 250th entry of the ~49,000, the most common first.
const sample = commonPasswords.filter((_, index) => index % 250 === 0)
const diceware = common.dictionary['diceware-common'].map(String)

const corpus: Record<string, string[]> = {
  contract: [
    'aaaaaaaaaaaaaaa',
    '123456789012345',
    'qwertyuiopasdfgh',
    'password1234567',
    'iloveyouiloveyou',
    'correct horse battery staple',
  ],
  'existing tests': [
    '               ',
    '😀'.repeat(15),
    'abcdefghijklmnop',
    'zaq12wsxcde34rfv',
    'p@ssw0rd12345678',
    'monkey123456789',
    'iloveyou2024!!!!',
    'Summer2024Summer2024',
    'letmein-letmein',
    'a long admin pass phrase',
    'just some lowercase words',
    'vault orbit candle meadow',
    'i like turtles a lot',
    'purple monkey dishwasher',
    'maple quartz ferry lantern 1789',
    'correct horse battery staple 42',
    'correcthorse0',
    'xk9#Lq2!vB7$mZ4@',
    '1|!7'.repeat(32),
    '4@(<[{6&9#$5+2%0'.repeat(8),
    'p@ssw0rd'.repeat(16),
  ],
  'common with digits or a year': sample.flatMap((word) => [
    `${word}1234567`,
    `${word}${1950 + Math.floor(next() * 76)}`,
    `${capitalize(word)}${1950 + Math.floor(next() * 76)}!`,
    `${word}${word}`,
    `${word} ${word} ${word}`,
  ]),
  'l33t and reversed': sample.flatMap((word) => [
    `${leet(word)}2024!!`,
    `${capitalize(leet(word))}123456`,
    `${reverse(word)}1234567`,
    `${reverse(leet(word))}!!2020`,
  ]),
  'keyboard walks and sequences': [
    'qwertyuiop[]\\',
    "asdfghjkl;'zxcvbnm",
    '1qaz2wsx3edc4rfv',
    'zxcvbnm,./zxcvbnm',
    '!QAZ@WSX#EDC$RFV',
    'qazwsxedcrfvtgb',
    '741852963741852963',
    'abcdefghijklmnopqrstu',
    'zyxwvutsrqponmlkjih',
    '135791113151719',
    'onetwothreefourfive',
    'mondaytuesdaywednesday',
    'mercuryvenusearthmars',
    'alphabravocharliedelta',
  ],
  'random strong': [
    ...Array.from({ length: 150 }, () =>
      Array.from({ length: 16 }, () =>
        pick('abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#$%&*+-=?@^_'.split('')),
      ).join(''),
    ),
    ...Array.from({ length: 150 }, () =>
      Array.from({ length: 4 + Math.floor(next() * 2) }, () => pick(diceware)).join(' '),
    ),
  ],
}

// Each password once, with one of the owners in turn (owner words with their own owner).
const cases: { group: string; password: string; owner: PasswordOwner }[] = Object.entries(
  corpus,
).flatMap(([group, passwords]) =>
  passwords.map((password, index) => ({ group, password, owner: owners[index % owners.length]! })),
)
cases.push(
  ...owners.flatMap((owner) =>
    ownerWords(owner).flatMap((word) =>
      [`${word}2024!`, `${capitalize(word)}19871987`, `${word}-${word}`, `my ${word} password`].map(
        (password) => ({ group: 'owner words', password, owner }),
      ),
    ),
  ),
)

// Stock zxcvbn costs ~5 ms a password: each is checked once, for both comparisons.
const stockResults = new Map<string, ZxcvbnResult>()
const stockEstimator = {
  check(password: string, words: (string | number)[] = []) {
    const key = [password, ...words].join('\0')
    let result = stockResults.get(key)
    if (!result) {
      result = stock.check(password, words)
      stockResults.set(key, result)
    }
    return result
  },
}

function outcome(result: ZxcvbnResult) {
  return { guesses: result.guesses, sequence: result.sequence, feedback: result.feedback }
}

describe('zxcvbn with the replaced dictionary matchers', () => {
  it('refuses exactly what stock zxcvbn refuses, with the same reason', () => {
    const tally: Record<
      string,
      { cases: number; refused: number; onlyStock: string[]; onlyNew: string[] }
    > = {}
    for (const { group, password, owner } of cases) {
      const counts = (tally[group] ??= { cases: 0, refused: 0, onlyStock: [], onlyNew: [] })
      const before = passwordProblem(password, owner, policy, stockEstimator)
      const after = passwordProblem(password, owner, policy)
      counts.cases += 1
      if (after) counts.refused += 1
      if (before && !after) counts.onlyStock.push(password)
      if (after && !before) counts.onlyNew.push(password)
      expect(after, password).toBe(before)
    }
    for (const [group, counts] of Object.entries(tally)) {
      // Never weaker than stock; and refusing nothing more, not even a strong random password.
      expect(counts.onlyStock, group).toEqual([])
      expect(counts.onlyNew, group).toEqual([])
    }
    // The comparison means something only if the corpus holds both kinds: the weak groups are
    // refused, the random strong passwords mostly accepted.
    for (const group of [
      'contract',
      'common with digits or a year',
      'l33t and reversed',
      'owner words',
    ]) {
      expect(tally[group]!.refused, group).toBeGreaterThan(tally[group]!.cases * 0.8)
    }
    expect(tally['random strong']!.refused).toBeLessThan(tally['random strong']!.cases * 0.1)
  }, 120_000)

  it('leaves zxcvbn’s guesses, match sequence and feedback as they were', () => {
    const replaced = new ZxcvbnFactory(estimatorSettings, dictionaryMatchers(estimatorDictionaries))
    for (const { password, owner } of cases) {
      const normalized = normalizePassword(password)
      const words = ownerWords(owner)
      expect(outcome(replaced.check(normalized, words)), password).toEqual(
        outcome(stockEstimator.check(normalized, words)),
      )
    }
  }, 120_000)
})
