import { hash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { CredentialRequired } from './errors.js'

// The one-shot hash skips the Hash object that createHash builds on every request.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

/**
 * Every route in the scope requires `Authorization: Bearer <credential>`. Digests of equal
 * length are compared in constant time against every accepted credential (several during a
 * rotation), with no early exit, so timing reveals neither which nor how much matched.
 */
export function requireServiceCredential(app: FastifyInstance, credentials: string[]): void {
  const accepted = credentials.map(digest)
  app.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.authorization ?? ''
    const presented = digest(header.startsWith('Bearer ') ? header.slice(7) : '')
    let ok = false
    for (const candidate of accepted) ok = timingSafeEqual(presented, candidate) || ok
    done(ok ? undefined : new CredentialRequired())
  })
}
