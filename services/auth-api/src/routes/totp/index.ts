import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { enrolment, matchingStep, newTotpSecret } from '../../crypto/totp.js'
import { UnreadableCiphertextError, type TotpCipher } from '../../crypto/totp-keys.js'
import { UnreadableCiphertext } from '../../errors.js'
import { enrollRoute, verifyRoute } from './schemas.js'

export interface TotpRoutesOptions {
  cipher: TotpCipher
  /** Clock for time steps, ms since the epoch. */
  now: () => number
}

const totpRoutes: FastifyPluginAsyncTypebox<TotpRoutesOptions> = async (app, { cipher, now }) => {
  app.post('/enroll', { schema: enrollRoute }, (request) => {
    const secret = newTotpSecret()
    const { base32, uri } = enrolment(secret, request.body.issuer, request.body.accountName)
    return { secret: base32, otpauthUri: uri, ciphertext: cipher.encrypt(secret) }
  })

  app.post('/verify', { schema: verifyRoute }, (request) => {
    const { ciphertext, code, afterStep } = request.body
    let opened
    try {
      opened = cipher.decrypt(ciphertext)
    } catch (error) {
      if (error instanceof UnreadableCiphertextError) throw new UnreadableCiphertext()
      throw error
    }
    const step = matchingStep(opened.plain, code, now(), afterStep)
    // Rotation: a secret sealed under an older key comes back under the active one.
    const resealed =
      step !== null && opened.keyId !== cipher.activeKeyId
        ? { ciphertext: cipher.encrypt(opened.plain) }
        : {}
    opened.plain.fill(0)
    return { valid: step !== null, step, ...resealed }
  })
}

export default totpRoutes
