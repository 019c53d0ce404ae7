import { describe, expect, inject, it } from 'vitest'
import { client, problemContentType } from '../src/http.js'

// Requests that Node's HTTP parser refuses (a method it does not know, a malformed request
// line) are answered by Fastify's client-error handler, before any route or error handler.

const pair = inject('pair')

describe('requests refused by the HTTP parser', () => {
  it('are answered with problem+json too', async () => {
    for (const base of [pair.usersUrl, pair.authUrl]) {
      for (const method of ['FOO', 'GETS', 'BREW']) {
        const res = await client(base).send({ method, path: '/v1/users/me' })
        expect(res.status).toBe(400)
        expect(res.headers['content-type']).toBe(problemContentType)
        expect(res.json<{ code: string }>().code).toBe('VALIDATION_FAILED')
      }
    }
  })
})
