import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { AuthApiClient } from '@users-auth/auth-contract'
import { databaseUri } from '@users-auth/dev-mongo'
import { ConfigError, createLogger } from '@users-auth/service-kit'
import { Redis } from 'ioredis'
import mongoose from 'mongoose'
import { describe, expect, inject, it, vi } from 'vitest'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import { startDevMailSink } from '../src/mail/dev-sink.js'
import { credential, goodPassword, post, startPair } from './pair-harness.js'

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
    const lines: string[] = []
    const { users } = await startPair({
      printMail: (line) => lines.push(line),
      // The default send timeout, which is also how long the sender's idle pooled connection
      // stays open (the harness's 1 s would close it before the sink does).
      usersEnv: { MAIL_SEND_TIMEOUT: '30s' },
    })
    const signup = await post(users, '/v1/auth/signup', {
      email: 'sink@example.com',
      password: goodPassword,
    })
    expect(signup.statusCode).toBe(201)
    await expect.poll(() => lines.length, { timeout: 10_000 }).toBe(1)
    // The sender's pooled connection is still open: closing the sink before the sender
    // would wait out the sink's close timeout (1 s; smtp-server's default is 30 s).
    const started = performance.now()
    await users.close()
    expect(performance.now() - started).toBeLessThan(900)
  })

  it('still closes MongoDB and Redis when its mail sink fails to close', async () => {
    const uri = databaseUri(inject('mongoUri'), `sinkfail_${randomUUID().slice(0, 8)}`)
    const opened = openDatabase({ uri, timeoutMs: 2000 })
    let databaseClosed = false
    const db = {
      ...opened,
      close: async () => {
        await opened.close()
        databaseClosed = true
      },
    }
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
    expect(await redis.ping()).toBe('PONG')
    const app = await buildApp({
      config: loadConfig({ NODE_ENV: 'test', INTERNAL_API_TOKEN: credential, MONGODB_URI: uri }),
      logger: createLogger({ level: 'silent' }),
      db,
      authApi: new AuthApiClient({ baseUrl: 'http://127.0.0.1:1', credential }),
      redis,
      // A deliberately broken sink: its close fails.
      mailSink: { close: () => Promise.reject(new Error('the sink would not close')) },
    })
    await app.ready()
    await expect(app.close()).rejects.toThrow('the sink would not close')
    expect(databaseClosed).toBe(true)
    // ioredis reports the end once the socket has closed.
    await vi.waitFor(() => {
      expect(redis.status).toBe('end')
    })
    const leftover = await mongoose.createConnection(uri).asPromise()
    await leftover.dropDatabase()
    await leftover.close()
  })
})
