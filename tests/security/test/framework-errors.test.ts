import { describe, expect, inject, it } from 'vitest'
import { client, problemContentType } from '../src/http.js'

// Requests refused before routing (Node's HTTP parser, Fastify's router) never reach the
// problem renderer: they get Fastify's own JSON, and some echo the URL back.

const pair = inject('pair')

describe('requests refused before routing', () => {
  it('are answered with problem+json and echo nothing', async () => {
    for (const base of [pair.usersUrl, pair.authUrl]) {
      for (const [method, path] of [
        ['GET', `/v1/users/${'x'.repeat(101)}`],
        ['DELETE', `/v1/users/me/sessions/${'<script>'.repeat(20)}`],
        ['GET', '/v1/users/%zz'],
        ['FOO', '/v1/users/me'],
      ] as const) {
        const res = await client(base).send({ method, path })
        const where = `${base} ${method} ${path.slice(0, 40)} → ${String(res.status)} ${res.text.slice(0, 200)}`
        expect(res.status, where).toBeLessThan(500)
        expect(res.headers['content-type'], where).toBe(problemContentType)
        expect(res.text, where).not.toContain('xxxxxxxxxx')
        expect(res.text, where).not.toContain('<script>')
      }
    }
  })
})
