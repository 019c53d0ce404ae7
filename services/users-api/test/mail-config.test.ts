import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { databaseUri } from '@users-auth/dev-mongo'
import { ConfigError, createLogger } from '@users-auth/service-kit'
import { createAuthApi } from 'auth-api/create'
import { describe, expect, inject, it } from 'vitest'
import { loadConfig } from '../src/config.js'
import { createUsersApi } from '../src/create-users-api.js'
import { startDevMailSink } from '../src/mail/dev-sink.js'
import { cheapArgon2, credential, goodPassword, post, waitUntilReady } from './pair-harness.js'

const production = {
  NODE_ENV: 'production',
  MONGODB_URI: 'mongodb://db/users',
  INTERNAL_API_TOKEN: 'x'.repeat(32),
  SMTP_URL: 'smtps://mail.example.com:465',
  APP_URL: 'https://app.example.com/',
}

describe('mail configuration', () => {
  it('has development defaults and reads every setting', () => {
    expect(loadConfig({}).mail).toMatchObject({
      smtpUrl: undefined,
      appUrl: 'http://127.0.0.1:3000',
      from: 'users-auth <no-reply@localhost>',
      requireVerification: false,
      retryForMs: 48 * 3_600_000,
    })
    expect(
      loadConfig({ ...production, REQUIRE_EMAIL_VERIFICATION: 'true', MAIL_FROM: 'A <a@b.c>' })
        .mail,
    ).toMatchObject({
      smtpUrl: 'smtps://mail.example.com:465',
      appUrl: 'https://app.example.com',
      from: 'A <a@b.c>',
      requireVerification: true,
    })
  })

  it('refuses to start in production without SMTP_URL or APP_URL', () => {
    const { SMTP_URL: _s, ...noSmtp } = production
    const { APP_URL: _a, ...noApp } = production
    expect(() => loadConfig(noSmtp)).toThrow(/SMTP_URL is required in production/)
    expect(() => loadConfig(noApp)).toThrow(/APP_URL is required in production/)
    expect(() => loadConfig({ ...production, SMTP_URL: 'http://mail' })).toThrow(ConfigError)
    expect(() => loadConfig({ ...production, MAIL_RETRY_FOR: '23h' })).toThrow(/at least 24h/)
  })

  it('exits with a clear message when the production process has no SMTP_URL', () => {
    const { SMTP_URL: _s, ...env } = production
    const root = fileURLToPath(new URL('..', import.meta.url))
    const result = spawnSync(
      'node',
      ['--conditions=@users-auth/source', '--import', 'tsx', 'src/server.ts'],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      },
    )
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('users-api: SMTP_URL is required in production')
  })

  it('prints one line per mail with its recipient, subject and links from the embedded sink', async () => {
    const lines: string[] = []
    const sink = await startDevMailSink((line) => lines.push(line))
    const { createTransport } = await import('nodemailer')
    const transport = createTransport(sink.url)
    await transport.sendMail({
      from: 'a@example.com',
      to: 'dev@example.com',
      subject: 'Reset your password',
      text: 'Open http://127.0.0.1:3000/reset-password#token=abc to go on.\nThanks',
    })
    transport.close()
    await sink.close()
    expect(lines).toEqual([
      'mail to dev@example.com: "Reset your password" http://127.0.0.1:3000/reset-password#token=abc',
    ])
  })

  it('closes at once after its embedded sink has taken a mail (the sender lets go first)', async () => {
    const auth = await createAuthApi(
      { NODE_ENV: 'test', INTERNAL_API_TOKEN: credential, ...cheapArgon2 },
      { logger: createLogger({ level: 'silent' }) },
    )
    const authUrl = await auth.app.listen({ port: 0, host: '127.0.0.1' })
    const lines: string[] = []
    const { app } = await createUsersApi(
      {
        NODE_ENV: 'test',
        INTERNAL_API_TOKEN: credential,
        MONGODB_URI: databaseUri(inject('mongoUri'), `users_${randomUUID().slice(0, 8)}`),
        AUTH_API_URL: authUrl,
        // The mail leaves at once; MAIL_SEND_TIMEOUT keeps its default (30 s), which is also
        // how long the sender's idle pooled connection stays open.
        MAIL_POLL_INTERVAL: '100ms',
      },
      { logger: createLogger({ level: 'silent' }), printMail: (line) => lines.push(line) },
    )
    let closed = false
    try {
      await waitUntilReady(app)
      const signup = await post(app, '/v1/auth/signup', {
        email: 'sink@example.com',
        password: goodPassword,
      })
      expect(signup.statusCode).toBe(201)
      await expect.poll(() => lines.length, { timeout: 10_000 }).toBe(1)
      // The sender's pooled connection is still open: closing the sink before the sender
      // would wait out the sink's close timeout (1 s; smtp-server's default is 30 s).
      const started = performance.now()
      await app.close()
      closed = true
      expect(performance.now() - started).toBeLessThan(900)
    } finally {
      if (!closed) await app.close()
      await auth.app.close()
    }
  })
})
