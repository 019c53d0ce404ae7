import { createHash } from 'node:crypto'
import type { Database } from '../db/database.js'
import { mailBudgetQueries } from '../db/mail-budget-queries.js'
import { outboxQueries } from '../db/outbox-queries.js'
import { renderMail, type MailTemplate } from '../mail/templates.js'
import type { RequestContext } from './deps.js'

/** At most this many mails per address and window (contract: 5 an hour). */
export const mailsPerAddress = 5
export const mailBudgetWindowMs = 60 * 60_000

export interface MailerOptions {
  db: Database
  /** Injected clock: the per-address budget follows it. */
  now: () => Date
  appUrl: string
  subjectPrefix: string
  /** How long a queued mail may wait: its outbox record is kept a week beyond. */
  retryForMs: number
  /** Told of each mail queued (the sender looks at once). */
  onQueued: () => void
}

/**
 * Queues mails in the outbox, inside the request that causes them; the sender delivers them
 * later. Each address has a small budget of mails per hour, spent silently: a request that
 * finds it spent still succeeds, without a mail.
 */
export function createMailer(options: MailerOptions) {
  const outbox = outboxQueries(options.db)
  const budget = mailBudgetQueries(options.db)
  const keepMs = options.retryForMs + 7 * 24 * 60 * 60_000

  return {
    /** `${APP_URL}/<page>#token=…`: in the fragment, which browsers never send to a server. */
    link(page: 'verify-email' | 'reset-password' | 'confirm-email', token: string): string {
      return `${options.appUrl}/${page}#token=${token}`
    },

    /** Spends one mail of the address's budget; false when it is spent. */
    allowance(address: string): Promise<boolean> {
      const key = createHash('sha256').update(address).digest('hex').slice(0, 32)
      return budget.take(key, mailsPerAddress, mailBudgetWindowMs, options.now())
    },

    /** Queues the mail (the caller has taken its allowance). */
    async queue(to: string, template: MailTemplate, ctx: RequestContext): Promise<void> {
      const rendered = renderMail(
        template,
        { ip: ctx.ip, userAgent: ctx.userAgent, at: options.now() },
        options.subjectPrefix,
      )
      await outbox.enqueue({ to, ...rendered }, new Date(), keepMs)
      options.onQueued()
    },
  }
}

export type Mailer = ReturnType<typeof createMailer>
