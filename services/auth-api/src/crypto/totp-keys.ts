import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/** One key of `TOTP_ENCRYPTION_KEYS`: an id (written into every ciphertext) and 32 bytes. */
export interface TotpKey {
  id: string
  key: Buffer
}

export class TotpKeyConfigError extends Error {
  override name = 'KeyConfigError'
}

/** A ciphertext this service did not make, or made under a key it no longer holds. */
export class UnreadableCiphertextError extends Error {
  override name = 'UnreadableCiphertextError'
}

const keyIdPattern = /^[A-Za-z0-9_-]{1,32}$/
const version = 'v1'
const ivBytes = 12
const tagBytes = 16

/**
 * Parses `TOTP_ENCRYPTION_KEYS`: a comma list of `id:base64key` (32 bytes each). The first
 * encrypts; all decrypt, so a key can be replaced without losing enrolled secrets.
 */
export function parseTotpKeys(text: string): TotpKey[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  if (entries.length === 0) throw new TotpKeyConfigError('TOTP_ENCRYPTION_KEYS has no keys')
  const keys = entries.map((entry) => {
    const at = entry.indexOf(':')
    const id = at > 0 ? entry.slice(0, at) : ''
    if (!keyIdPattern.test(id)) {
      throw new TotpKeyConfigError(
        'TOTP_ENCRYPTION_KEYS: each entry is id:base64key, the id 1-32 of [A-Za-z0-9_-]',
      )
    }
    const key = Buffer.from(entry.slice(at + 1), 'base64')
    if (key.length !== 32) {
      throw new TotpKeyConfigError(`TOTP_ENCRYPTION_KEYS: key ${id} is not 32 bytes of base64`)
    }
    return { id, key }
  })
  if (new Set(keys.map((k) => k.id)).size !== keys.length)
    throw new TotpKeyConfigError('TOTP_ENCRYPTION_KEYS has duplicate ids')
  return keys
}

/** A fresh `id:base64key` entry, as `pnpm --filter auth-api keygen --totp` prints. */
export function generateTotpKeyEntry(id = `k${new Date().toISOString().slice(0, 10)}`): string {
  return `${id.replaceAll(/[^A-Za-z0-9_-]/g, '')}:${randomBytes(32).toString('base64')}`
}

/**
 * AES-256-GCM (node:crypto) for TOTP secrets. A ciphertext reads
 * `v1.<key id>.<iv>.<sealed>` (base64url), the version and key id bound in as associated data,
 * so a ciphertext names the key that opens it and cannot be relabelled.
 */
export class TotpCipher {
  private readonly byId: Map<string, Buffer>

  constructor(private readonly keys: TotpKey[]) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]))
    if (keys.length === 0) throw new TotpKeyConfigError('TOTP_ENCRYPTION_KEYS has no keys')
  }

  /** The key that encrypts. */
  get activeKeyId(): string {
    return this.active.id
  }

  private get active(): TotpKey {
    const [first] = this.keys
    if (!first) throw new TotpKeyConfigError('TOTP_ENCRYPTION_KEYS has no keys')
    return first
  }

  encrypt(plain: Buffer): string {
    const { id, key } = this.active
    const iv = randomBytes(ivBytes)
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes })
    cipher.setAAD(Buffer.from(`${version}.${id}`))
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
    return [version, id, iv.toString('base64url'), sealed.toString('base64url')].join('.')
  }

  /** The plaintext and the id of the key that opened it. */
  decrypt(ciphertext: string): { plain: Buffer; keyId: string } {
    const [v, id, ivText, sealedText, ...rest] = ciphertext.split('.')
    const key = id === undefined ? undefined : this.byId.get(id)
    if (v !== version || rest.length > 0 || !key || !ivText || !sealedText || !id)
      throw new UnreadableCiphertextError('unknown ciphertext format or key')
    const iv = Buffer.from(ivText, 'base64url')
    const sealed = Buffer.from(sealedText, 'base64url')
    if (iv.length !== ivBytes || sealed.length <= tagBytes)
      throw new UnreadableCiphertextError('malformed ciphertext')
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes })
      decipher.setAAD(Buffer.from(`${version}.${id}`))
      decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes))
      const plain = Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - tagBytes)),
        decipher.final(),
      ])
      return { plain, keyId: id }
    } catch (error) {
      throw new UnreadableCiphertextError('ciphertext does not authenticate', { cause: error })
    }
  }
}
