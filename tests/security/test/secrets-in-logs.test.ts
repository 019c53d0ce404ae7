import { readFileSync } from 'node:fs'
import { describe, expect, inject, it } from 'vitest'
import { usersApi } from '../src/api.js'
import { client } from '../src/http.js'
import { findLeaks, privateKeyMaterial } from '../src/log-secrets.js'
import { newEmail, newPassword, secretMarker } from '../src/pair.js'

// Secrets in logs (ASVS 7.1.1/7.1.2, contract "Logs"): both services' output is captured
// from start-up (test/global-setup.ts). This file sends credentials through every channel a
// client might use, including the wrong ones, then searches everything logged so far; the
// global teardown repeats the search over the whole suite's logs.

const pair = inject('pair')
const api = usersApi(pair)
const auth = client(pair.authUrl)

async function logsNow(): Promise<string> {
  // pino writes synchronously; give the pipes a moment to deliver the last lines.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return readFileSync(inject('logFile'), 'utf8')
}

describe('logs of both services', () => {
  it('were captured', async () => {
    const logs = await logsNow()
    expect(logs).toMatch(/"service":"users-api"/)
    expect(logs).toMatch(/"service":"auth-api"/)
    expect(logs).toMatch(/"requestId"/)
  })

  it('hold no password, hash, token or credential after traffic that carries them everywhere', async () => {
    const secrets: string[] = [pair.credential, ...privateKeyMaterial(pair.privateJwks)]
    const account = await api.signup('logs')
    secrets.push(account.password, account.session.accessToken, account.session.refreshToken)
    const relogin = await api.login(account.email, account.password)
    secrets.push(relogin.accessToken, relogin.refreshToken)
    const refreshed = await api.refresh(relogin.refreshToken)
    secrets.push(refreshed.accessToken, refreshed.refreshToken)
    const token = refreshed.accessToken

    // Wrong passwords and replayed tokens: failures are logged too.
    const wrong = newPassword('wrong')
    secrets.push(wrong)
    await api.post('/v1/auth/login', { email: account.email, password: wrong })
    await api.post('/v1/auth/refresh', { refreshToken: relogin.refreshToken })
    // Validation failures that carry a password or token in the offending value.
    const tooLong = `${secretMarker}${'p'.repeat(1100)}`
    await api.post('/v1/auth/signup', { email: newEmail('logs-long'), password: tooLong })
    await api.post('/v1/auth/signup', { email: newEmail('logs-type'), password: [wrong] })
    await api.post('/v1/auth/signup', { email: newEmail('logs-extra'), password: wrong, token })
    await api.post('/v1/auth/refresh', { refreshToken: `${token}${token}` })
    await api.post('/v1/auth/refresh', { refreshToken: { value: refreshed.refreshToken } })
    await api.send({
      method: 'POST',
      path: '/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      body: `{"email":"${account.email}","password":"${wrong}"`,
    })
    // Credentials where they do not belong: query string, cookies, odd headers.
    await api.get(`/v1/users/me?access_token=${token}&password=${encodeURIComponent(wrong)}`)
    await api.send({ path: '/v1/users/me', headers: { cookie: `session=${token}` } })
    await api.send({ path: '/v1/users/me', headers: { authorization: `Basic ${token}` } })
    await api.send({
      path: '/v1/users/me',
      headers: { 'x-api-key': token, 'x-internal-token': pair.credential },
    })
    // Password change and deletion.
    const next = newPassword('next')
    secrets.push(next)
    await api.post('/v1/users/me/password', { currentPassword: wrong, newPassword: next }, token)
    await api.post(
      '/v1/users/me/password',
      { currentPassword: account.password, newPassword: next },
      token,
    )
    await api.delete('/v1/users/me', { password: wrong }, token)
    await api.delete('/v1/users/me', { password: next }, token)
    // auth-api, called directly with and without the credential.
    await auth.post('/v1/passwords/hash', { password: wrong })
    await auth.send({
      method: 'POST',
      path: '/v1/passwords/verify',
      body: { password: wrong, hash: null },
      headers: { authorization: `Bearer ${pair.credential}` },
    })
    await auth.send({
      method: 'POST',
      path: '/v1/passwords/hash',
      body: { password: wrong },
      headers: { authorization: `Bearer ${pair.credential}x` },
    })
    await auth.send({
      method: 'POST',
      path: '/v1/passwords/verify',
      body: {
        password: wrong,
        hash: '$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      },
      headers: { authorization: `Bearer ${pair.credential}` },
    })

    const logs = await logsNow()
    // The failures above were logged (so the search below searched something).
    expect(logs).toContain('"statusCode":401')
    const leaks = findLeaks(logs, secrets)
    expect(leaks.map((l) => `${l.kind}: ${l.line.slice(0, 300)}`)).toEqual([])
  })

  it('drop the query string and keep request ids', async () => {
    await api.get('/healthz?marker=query-should-not-be-logged')
    const res = await api.send({ path: '/v1/users/me?marker=query-should-not-be-logged' })
    const logs = await logsNow()
    expect(logs).not.toContain('query-should-not-be-logged')
    expect(logs).toContain(String(res.headers['x-request-id'] ?? 'missing'))
  })
})
