import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { createTransport } from 'nodemailer'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Database } from '../db/database.js'
import { outboxQueries } from '../db/outbox-queries.js'
import type { OutboxRecord } from '../db/outbox-model.js'

export interface OutboxSenderOptions {
  db: Database
  logger: FastifyBaseLogger
  metrics: Registry
  smtpUrl: string
  smtpUser?: string | undefined
  smtpPassword?: string | undefined
  from: string
  retryBaseMs: number
  retryMaxDelayMs: number
  /** A mail still failing this long after it was queued is given up. */
  retryForMs: number
  pollMs: number
  /** Bound on each SMTP step; the lease covers a whole attempt with room to spare. */
  sendTimeoutMs: number
}

/** The kind of a delivery failure, for the record and the log: never the server's text. */
function errorClass(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown }
  if (typeof responseCode === 'number') return `SMTP ${String(responseCode)}`
  if (typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code)) return code
  return error instanceof Error ? error.name : 'unknown'
}

/** An SMTP 5xx reply other than a temporary one: the server will never take this mail. */
function isPermanent(error: unknown): boolean {
  const { responseCode } = (error ?? {}) as { responseCode?: unknown }
  return typeof responseCode === 'number' && responseCode >= 550 && responseCode < 600
}

/**
 * The mail outbox's sender: a loop that claims one due mail at a time with a lease (one
 * replica sends each), delivers it over SMTP, and records the outcome. A failure is retried
 * with exponential backoff and jitter until `retryForMs` has passed since the mail was queued.
 * Requests only write the outbox, so SMTP's state never reaches them.
 */
export function createOutboxSender(options: OutboxSenderOptions) {
  const { logger } = options
  const store = outboxQueries(options.db)
  const transport = createTransport({
    url: options.smtpUrl,
    // One connection kept open and reused: a connection, greeting and EHLO per mail cost
    // more CPU than the mail itself.
    pool: true,
    maxConnections: 1,
    ...(options.smtpUser
      ? { auth: { user: options.smtpUser, pass: options.smtpPassword ?? '' } }
      : {}),
    connectionTimeout: options.sendTimeoutMs,
    greetingTimeout: options.sendTimeoutMs,
    socketTimeout: options.sendTimeoutMs,
  })
  // Connect, greeting, auth, envelope, data: at most a few bounded steps, then some slack.
  const leaseMs = options.sendTimeoutMs * 6 + 5000
  const registers = [options.metrics]
  const queued = new Counter({
    name: 'mail_queued_total',
    help: 'Mails written to the outbox by this replica',
    registers,
  })
  const sent = new Counter({ name: 'mail_sent_total', help: 'Mails delivered', registers })
  const retried = new Counter({
    name: 'mail_retried_total',
    help: 'Delivery attempts that failed and were scheduled again',
    registers,
  })
  const failed = new Counter({
    name: 'mail_failed_total',
    help: 'Mails given up (permanent refusal or retry span exhausted)',
    registers,
  })
  /** When the oldest mail not yet delivered was queued, as of the last look (none: null). */
  let oldestPendingSince: Date | null = null
  let lookingForOldest = false
  // Its own timer: a drain held up by a stalling SMTP server must not freeze the gauge that
  // should show it, and a scrape must not wait on MongoDB.
  async function lookForOldest(): Promise<void> {
    if (lookingForOldest) return
    lookingForOldest = true
    try {
      oldestPendingSince = (await store.oldestPendingSince()) ?? null
    } catch {
      // MongoDB away: the last value stays; the sender's warnings say why.
    } finally {
      lookingForOldest = false
    }
  }
  let oldestTimer: NodeJS.Timeout | undefined
  new Gauge({
    name: 'mail_oldest_pending_age_seconds',
    help: 'Age of the oldest mail not yet delivered (0: none), looked up every poll interval',
    registers,
    // From memory, so the age grows between two looks.
    collect() {
      const since = oldestPendingSince
      this.set(since ? Math.max(0, (Date.now() - since.getTime()) / 1000) : 0)
    },
  })

  const state = { running: false }
  const isRunning = () => state.running
  let wake: (() => void) | undefined
  let loop: Promise<void> | undefined
  /** Mails queued by this replica that no drain has claimed a mail for yet. */
  let queuedHere = 0

  function backoffMs(attempts: number): number {
    const exponential = options.retryBaseMs * 2 ** Math.min(attempts - 1, 30)
    const capped = Math.min(options.retryMaxDelayMs, exponential)
    // Equal jitter: half fixed, half random, so replicas retrying together spread out.
    return Math.round(capped / 2 + Math.random() * (capped / 2))
  }

  async function deliver(mail: OutboxRecord, leaseId: string): Promise<void> {
    try {
      await transport.sendMail({
        from: options.from,
        // An address object, never a string nodemailer would parse as an address list.
        to: { name: '', address: mail.to },
        subject: mail.subject,
        text: mail.text ?? '',
        html: mail.html ?? '',
      })
    } catch (error) {
      const kind = errorClass(error)
      const now = new Date()
      const expired = now.getTime() - mail.createdAt.getTime() >= options.retryForMs
      if (isPermanent(error) || expired) {
        await store.markFailed(mail._id, leaseId, now, kind)
        failed.inc()
        logger.error(
          { mail: { id: mail._id.toString(), attempts: mail.attempts, error: kind } },
          'mail given up',
        )
        return
      }
      const at = new Date(now.getTime() + backoffMs(mail.attempts))
      await store.scheduleRetry(mail._id, leaseId, at, kind)
      retried.inc()
      logger.warn(
        {
          mail: {
            id: mail._id.toString(),
            attempts: mail.attempts,
            error: kind,
            nextAttemptAt: at,
          },
        },
        'mail delivery failed; will retry',
      )
      return
    }
    await store.markSent(mail._id, leaseId, new Date())
    sent.inc()
    logger.info({ mail: { id: mail._id.toString(), attempts: mail.attempts } }, 'mail sent')
  }

  /**
   * Sends due mails. A poll sends until none is due (retries, other replicas' mails); between
   * polls a drain sends one mail per mail queued here, so a signup costs no query that finds
   * nothing.
   */
  async function drain(polling: boolean): Promise<void> {
    while (state.running && (polling || queuedHere > 0)) {
      // Mails queued while this claim runs are not its business: they keep their count.
      const counted = queuedHere
      const leaseId = randomUUID()
      const mail = await store.claimDue(new Date(), leaseId, leaseMs)
      if (!mail) {
        queuedHere = Math.max(0, queuedHere - counted)
        break
      }
      queuedHere = Math.max(0, queuedHere - 1)
      await deliver(mail, leaseId)
    }
  }

  async function run(): Promise<void> {
    let nextPollAt = 0
    while (state.running) {
      const polling = performance.now() >= nextPollAt
      const counted = queuedHere
      try {
        await drain(polling)
      } catch (error) {
        // MongoDB away: the mails wait in the outbox; try again at the next poll.
        queuedHere = Math.max(0, queuedHere - counted)
        logger.warn({ err: error }, 'mail outbox not reachable')
      }
      if (polling) nextPollAt = performance.now() + options.pollMs
      // stop() may have run while this drain was under way.
      if (!isRunning()) break
      // Queued while the drain's last step ran: no wake was listening then.
      if (queuedHere > 0) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, nextPollAt - performance.now()))
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      wake = undefined
    }
  }

  return {
    start(): void {
      if (state.running) return
      state.running = true
      loop = run()
      void lookForOldest()
      oldestTimer = setInterval(() => void lookForOldest(), options.pollMs)
      oldestTimer.unref()
    },
    /** A mail was just queued here: look now rather than at the next poll. */
    queued(): void {
      queued.inc()
      queuedHere += 1
      wake?.()
    },
    /** Lets the attempt in progress finish (each step is bounded), then stops. */
    async stop(): Promise<void> {
      state.running = false
      clearInterval(oldestTimer)
      wake?.()
      await loop
      transport.close()
    },
  }
}
