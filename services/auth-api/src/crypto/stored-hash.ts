import { parseOptions } from '@node-rs/argon2'
import type { Argon2Params } from '../config.js'

/** The stored hash is not an argon2 PHC string we are willing to verify. */
export class UnusableHashError extends Error {
  override name = 'UnusableHashError'
}

export type Argon2Variant = 'argon2id' | 'argon2i' | 'argon2d'

/** What a stored hash says about how it was made. */
export interface StoredHash extends Argon2Params {
  variant: Argon2Variant
  /** 19 (argon2 1.3) or 16 (1.0). */
  version: number
  /**
   * `m=…,t=…,p=…`, as the PHC format and every other implementation write it; false for the
   * `m=…,p=…,t=…` that the `argon2` package wrote up to 0.45 (ranisalt/node-argon2#559).
   */
  standardOrder: boolean
}

// $argon2id$v=19$<params>$<salt>$<digest>: unpadded base64, a version always present, a digest
// of at least 16 bytes (22 characters; ours have 32 bytes).
const phc = /^\$(argon2id|argon2i|argon2d)\$v=(16|19)\$([^$]*)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]{22,}$/
// Exactly m, t and p in one of the two orders ever written, decimal without leading zeros.
const decimal = '([1-9][0-9]{0,9})'
const standard = new RegExp(`^m=${decimal},t=${decimal},p=${decimal}$`)
const legacy = new RegExp(`^m=${decimal},p=${decimal},t=${decimal}$`)

/** How far above the configured costs a stored hash may go. */
const costFactor = 4

/**
 * The most a stored hash may cost: four times each configured parameter, so a planted hash
 * costs at most 4 × the configured memory per running job (the queue bounds the jobs). With
 * the smallest configuration (t=1, p=1) that is still t ≤ 4 and p ≤ 4, enough for hashes made
 * with other implementations' defaults (PHP: t=4, p=1; RFC 9106's second choice: t=3, p=4).
 */
export function costLimits(configured: Argon2Params): Argon2Params {
  return {
    memoryCost: costFactor * configured.memoryCost,
    timeCost: costFactor * configured.timeCost,
    parallelism: costFactor * configured.parallelism,
  }
}

function parameters(text: string): { m: number; t: number; p: number; standardOrder: boolean } {
  // Every group is mandatory, so a match has all three numbers.
  let match = standard.exec(text)
  if (match) {
    return { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]), standardOrder: true }
  }
  match = legacy.exec(text)
  if (match) {
    return { m: Number(match[1]), p: Number(match[2]), t: Number(match[3]), standardOrder: false }
  }
  throw new UnusableHashError('argon2 parameters must be m, t and p')
}

/**
 * Reads a stored argon2 PHC string, refusing anything we would not verify: another scheme, a
 * malformed string, or costs beyond `limits`. Cheap: no argon2 work is done.
 */
export function readStoredHash(hash: string, limits: Argon2Params): StoredHash {
  const match = phc.exec(hash)
  if (!match) throw new UnusableHashError('not an argon2 PHC string')
  const { m, t, p, standardOrder } = parameters(match[3] ?? '')
  if (m > limits.memoryCost || t > limits.timeCost || p > limits.parallelism) {
    throw new UnusableHashError('argon2 parameters beyond the configured bounds')
  }
  // The library's own checks (salt and digest lengths, memory for the lanes), as verify does them.
  try {
    parseOptions(hash)
  } catch {
    throw new UnusableHashError('argon2 parameters or lengths the library refuses')
  }
  return {
    variant: match[1] as Argon2Variant,
    version: Number(match[2]),
    memoryCost: m,
    timeCost: t,
    parallelism: p,
    standardOrder,
  }
}

/**
 * A valid password's hash is stored again when it is not what we write today: argon2id 1.3 in
 * the standard order with the configured costs (higher or lower).
 */
export function needsRehash(stored: StoredHash, configured: Argon2Params): boolean {
  return (
    stored.variant !== 'argon2id' ||
    stored.version !== 19 ||
    !stored.standardOrder ||
    stored.memoryCost !== configured.memoryCost ||
    stored.timeCost !== configured.timeCost ||
    stored.parallelism !== configured.parallelism
  )
}
