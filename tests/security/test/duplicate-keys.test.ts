import { describe, expect, inject, it } from 'vitest'
import { openDb, usersApi } from '../src/api.js'
import { expectProblem } from '../src/http.js'
import { newEmail, newPassword } from '../src/pair.js'

// A JSON object with a repeated member name means different things to different parsers
// (first wins, last wins, error): a proxy or WAF and the service could disagree about what
// was sent. The contract allows only the listed fields, so such a body is a 400.

const pair = inject('pair')
const api = usersApi(pair)

describe('duplicate JSON keys', () => {
  it('are refused with 400 and store nothing', async () => {
    const { db, close } = await openDb(pair)
    try {
      const a = newEmail('dup')
      const b = newEmail('dup')
      const bodies = [
        [a, `{"email":"${a}","password":"${newPassword()}","password":"${newPassword()}"}`],
        [b, `{"email":"${newEmail('dup-first')}","email":"${b}","password":"${newPassword()}"}`],
      ] as const
      for (const [email, raw] of bodies) {
        const res = await api.send({
          method: 'POST',
          path: '/v1/auth/signup',
          headers: { 'content-type': 'application/json' },
          body: raw,
        })
        expectProblem(res, 400, 'VALIDATION_FAILED')
        expect(await db.collection('users').findOne({ email })).toBeNull()
      }
    } finally {
      await close()
    }
  })
})
