import { timingSafeEqual } from 'node:crypto'
import { HOTP, Secret, TOTP } from 'otpauth'

// RFC 6238 as the contract fixes it: SHA-1, 6 digits, 30-second steps.
export const totpParams = { algorithm: 'SHA1', digits: 6, period: 30 } as const
/** Steps accepted on either side of the current one (clock drift, a code typed late). */
const window = 1
const secretBytes = 20

/** A new random secret (160 bits, RFC 4226's recommended size). */
export function newTotpSecret(): Buffer {
  return Buffer.from(new Secret({ size: secretBytes }).bytes)
}

/** The QR-ready `otpauth://totp/…` URI and the base32 secret an authenticator app takes. */
export function enrolment(
  secret: Buffer,
  issuer: string,
  accountName: string,
): { base32: string; uri: string } {
  const totp = new TOTP({
    issuer,
    label: accountName,
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    ...totpParams,
  })
  return { base32: totp.secret.base32, uri: totp.toString() }
}

/** The code for one time step (what an authenticator shows during that step). */
export function codeAt(secret: Buffer, step: number): string {
  return HOTP.generate({
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: totpParams.algorithm,
    digits: totpParams.digits,
    counter: step,
  })
}

/** The time step a moment falls in. */
export function stepAt(timestampMs: number): number {
  return TOTP.counter({ period: totpParams.period, timestamp: timestampMs })
}

/**
 * The newest step within the window whose code equals `code` and that lies after
 * `afterStep` (steps at or before it were used: no replay), or null. Every candidate is
 * compared, in constant time, so timing does not tell which step matched.
 */
export function matchingStep(
  secret: Buffer,
  code: string,
  nowMs: number,
  afterStep: number,
): number | null {
  const presented = Buffer.from(code.padEnd(totpParams.digits, ' ').slice(0, 16))
  const current = stepAt(nowMs)
  let found: number | null = null
  for (let step = current - window; step <= current + window; step++) {
    const expected = Buffer.from(codeAt(secret, step))
    const equal =
      presented.length === expected.length && timingSafeEqual(presented, expected) && step >= 0
    if (equal && step > afterStep) found = step
  }
  return found
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}
