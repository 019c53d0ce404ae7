import { generatePrivateJwk, type SigningAlgorithm } from './crypto/key-ring.js'

// Prints a private JWK set with one new key, for JWT_PRIVATE_KEYS. `--alg ES256` for P-256.
const algIndex = process.argv.indexOf('--alg')
const alg = (algIndex > 0 ? process.argv[algIndex + 1] : 'EdDSA') as SigningAlgorithm
const jwk = await generatePrivateJwk(alg)
process.stdout.write(`${JSON.stringify({ keys: [jwk] })}\n`)
