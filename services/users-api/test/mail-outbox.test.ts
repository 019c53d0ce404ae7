import { describe, expect, it } from 'vitest'
import { get, post, signup, startPair, startReplica, type Pair } from './pair-harness.js'
import { TestMailServer, tokenFrom } from './mail-server.js'

const verifySubject = /Verify your email address/

/** Access tokens of `n` new accounts (each address has its own mail budget). */
async function accounts(pair: Pair, prefix: string, n: number): Promise<string[]> {
  const tokens: string[] = []
  for (let i = 0; i < n; i++) {
    tokens.push((await signup(pair.users, `${prefix}${String(i)}@example.com`)).accessToken)
  }
  return tokens
}

/** Median time of one verification-mail request per account (each queues a mail), in ms. */
async function medianRequestMs(pair: Pair, accessTokens: string[]): Promise<number> {
  const times: number[] = []
  for (const accessToken of accessTokens) {
    const started = performance.now()
    const res = await post(pair.users, '/v1/auth/email/verify/send', undefined, accessToken)
    times.push(performance.now() - started)
    expect(res.statusCode).toBe(202)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] ?? 0
}

async function outboxStatuses(pair: Pair): Promise<string[]> {
  const docs = await pair.db.collection('mail_outbox').find({}).toArray()
  return docs.map((d) => String(d.status))
}

describe('mail outbox', () => {
  it('delivers, records the outcome, removes the body and counts it in /metrics', async () => {
    const pair = await startPair()
    await signup(pair.users, 'metric@example.com')
    const token = tokenFrom(
      await pair.mail.mailTo('metric@example.com', verifySubject),
      'verify-email',
    )
    await expect.poll(() => outboxStatuses(pair)).toEqual(['sent'])
    const [record] = await pair.db.collection('mail_outbox').find({}).toArray()
    expect(record).toMatchObject({ to: 'metric@example.com', status: 'sent', attempts: 1 })
    expect(record?.text).toBeUndefined()
    expect(record?.html).toBeUndefined()
    expect(JSON.stringify(record)).not.toContain(token)
    const metrics = (await get(pair.users, '/metrics')).body
    expect(metrics).toMatch(/^mail_queued_total 1$/m)
    expect(metrics).toMatch(/^mail_sent_total 1$/m)
    expect(metrics).toMatch(/^mail_retried_total 0$/m)
    expect(metrics).toMatch(/^mail_failed_total 0$/m)
    // The gauge looks at the outbox every poll interval (100 ms here).
    await expect
      .poll(async () => (await get(pair.users, '/metrics')).body)
      .toMatch(/^mail_oldest_pending_age_seconds 0$/m)
    // Nothing in any log line carries the token or the mail body.
    expect(pair.logs()).not.toContain(token)
    expect(pair.logs()).not.toContain('verify-email#token')
  })

  it('never slows a request while SMTP refuses, and delivers once it is back', async () => {
    const mail = new TestMailServer()
    await mail.start()
    const pair = await startPair({ mail })
    const before = await accounts(pair, 'healthy', 7)
    const during = await accounts(pair, 'outage', 5)
    const healthy = await medianRequestMs(pair, before)
    await expect.poll(() => outboxStatuses(pair), { timeout: 10_000 }).not.toContain('pending')

    await mail.stop()
    const refused = await medianRequestMs(pair, during)
    // Generous: the request writes MongoDB only, so SMTP's state cannot show up here.
    expect(refused).toBeLessThan(healthy * 3 + 25)
    await expect
      .poll(async () => (await get(pair.users, '/metrics')).body, { timeout: 5000 })
      .toMatch(/^mail_retried_total [1-9]/m)
    const pending = await pair.db.collection('mail_outbox').findOne({ status: 'pending' })
    expect(pending?.lastError).toMatch(/^E[A-Z]+$/)
    expect(pair.logs()).toMatch(/mail delivery failed; will retry/)
    // The waiting mail's age, looked up every poll interval and computed at each scrape: it
    // keeps growing.
    const oldestAge = async () =>
      Number(
        /^mail_oldest_pending_age_seconds (\S+)$/m.exec(
          (await get(pair.users, '/metrics')).body,
        )?.[1],
      )
    await expect.poll(oldestAge).toBeGreaterThan(0)
    const firstAge = await oldestAge()
    await expect.poll(oldestAge).toBeGreaterThan(firstAge)

    await mail.start()
    await expect.poll(() => outboxStatuses(pair), { timeout: 15_000 }).not.toContain('pending')
    const delivered = mail.received.filter((m) => m.to[0]?.startsWith('outage'))
    // Each outage account: its signup mail and the one asked for during the outage.
    expect(delivered).toHaveLength(10)
    await mail.stop()
  })

  it('never slows a request while SMTP stalls, and delivers once it answers again', async () => {
    const mail = new TestMailServer()
    await mail.start()
    const pair = await startPair({ mail })
    const before = await accounts(pair, 'healthy', 5)
    const during = await accounts(pair, 'stall', 3)
    const healthy = await medianRequestMs(pair, before)
    await expect.poll(() => outboxStatuses(pair), { timeout: 10_000 }).not.toContain('pending')

    mail.mode = 'stall'
    const stalled = await medianRequestMs(pair, during)
    expect(stalled).toBeLessThan(healthy * 3 + 25)
    // The sender gives up on the silent server after MAIL_SEND_TIMEOUT (1 s here) and retries.
    await expect
      .poll(async () => (await get(pair.users, '/metrics')).body, { timeout: 8000 })
      .toMatch(/^mail_retried_total [1-9]/m)
    mail.mode = 'accept'
    await expect.poll(() => outboxStatuses(pair), { timeout: 15_000 }).not.toContain('pending')
    expect(mail.received.filter((m) => m.to[0]?.startsWith('stall'))).toHaveLength(6)
    await mail.stop()
  })

  it('keeps queued mail across a restart and sends it from the next process', async () => {
    const mail = new TestMailServer()
    await mail.start()
    const pair = await startPair({ mail })
    await mail.stop()
    await signup(pair.users, 'durable@example.com')
    await expect
      .poll(async () => (await get(pair.users, '/metrics')).body, { timeout: 5000 })
      .toMatch(/^mail_retried_total [1-9]/m)
    // The service goes away with the mail still pending; another process takes over.
    await pair.users.close()
    expect(await outboxStatuses(pair)).toEqual(['pending'])
    await mail.start()
    const next = await startReplica(pair, {})
    try {
      const delivered = await mail.mailTo('durable@example.com', verifySubject, 15_000)
      expect(tokenFrom(delivered, 'verify-email')).toHaveLength(43)
      await expect.poll(() => outboxStatuses(pair), { timeout: 5000 }).toEqual(['sent'])
    } finally {
      await next.close()
      await mail.stop()
    }
  })

  it('has each mail sent by one replica only', async () => {
    const mail = new TestMailServer()
    await mail.start()
    const pair = await startPair({ mail })
    await mail.stop()
    const replica = await startReplica(pair, {})
    try {
      const addresses = Array.from({ length: 12 }, (_, i) => `r${String(i)}@example.com`)
      await Promise.all(addresses.map((a, i) => signup(i % 2 ? replica : pair.users, a)))
      await mail.start()
      await expect
        .poll(() => outboxStatuses(pair), { timeout: 15_000 })
        .toEqual(Array(12).fill('sent'))
      await new Promise((resolve) => setTimeout(resolve, 300))
      const counts = addresses.map((a) => mail.received.filter((m) => m.to.includes(a)).length)
      expect(counts).toEqual(Array(12).fill(1))
    } finally {
      await replica.close()
      await mail.stop()
    }
  })
})
