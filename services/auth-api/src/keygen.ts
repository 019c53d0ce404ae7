import { generatePrivateJwk, type SigningAlgorithm } from './crypto/key-ring.js'
import { generateTotpKeyEntry } from './crypto/totp-keys.js'

// Prints a private JWK set with one new key, for JWT_PRIVATE_KEYS. `--alg ES256` for P-256.
// `--totp` prints one `id:base64key` entry for TOTP_ENCRYPTION_KEYS instead.
if (process.argv.includes('--totp')) {
  process.stdout.write(`${generateTotpKeyEntry()}\n`)
  process.exit(0)
}
const algIndex = process.argv.indexOf('--alg')
const alg = (algIndex > 0 ? process.argv[algIndex + 1] : 'EdDSA') as SigningAlgorithm
const jwk = await generatePrivateJwk(alg)
process.stdout.write(`${JSON.stringify({ keys: [jwk] })}\n`)
