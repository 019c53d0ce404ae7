import { secretMarker } from './pair.js'

export interface LeakFinding {
  kind: string
  line: string
}

// What a credential looks like when it leaks, whatever request carried it.
const patterns: [string, RegExp][] = [
  ['JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  [
    'refresh token',
    /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}/,
  ],
  ['argon2 hash', /\$argon2(?:id|i|d)\$/],
  ['suite password', new RegExp(secretMarker)],
]

/**
 * Every line of `text` that carries a token, a hash, a password of the suite or one of the
 * given literal secrets (the service credential, private key material).
 */
export function findLeaks(text: string, literals: readonly string[]): LeakFinding[] {
  const findings: LeakFinding[] = []
  for (const line of text.split('\n')) {
    for (const [kind, pattern] of patterns) {
      if (pattern.test(line)) findings.push({ kind, line })
    }
    for (const literal of literals) {
      if (literal.length >= 8 && line.includes(literal)) findings.push({ kind: 'secret', line })
    }
  }
  return findings
}

/** The private parts of a JWK set: none may ever be printed. */
export function privateKeyMaterial(privateJwks: string): string[] {
  const parsed = JSON.parse(privateJwks) as { keys: { d?: string }[] }
  return parsed.keys.flatMap((k) => (k.d ? [k.d] : []))
}
