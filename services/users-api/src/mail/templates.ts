// Every mail the service sends, in one place: plain text and HTML with escaped values, the
// link, who asked and what to do if it was not you. No images, no tracking.

/** Who made the request that caused the mail. */
export interface Requester {
  ip: string
  userAgent: string
  at: Date
}

export interface RenderedMail {
  subject: string
  text: string
  html: string
}

export type MailTemplate =
  | { kind: 'verify-email'; link: string }
  | { kind: 'reset-password'; link: string }
  | { kind: 'confirm-email-change'; link: string; newEmail: string }
  | { kind: 'email-change-notice'; newEmail: string }

interface Wording {
  subject: string
  intro: string
  action?: { label: string; link: string; validFor: string }
  notYou: string
}

function wording(template: MailTemplate): Wording {
  switch (template.kind) {
    case 'verify-email':
      return {
        subject: 'Verify your email address',
        intro: 'Please confirm that this address belongs to you.',
        action: { label: 'Verify email address', link: template.link, validFor: '24 hours' },
        notYou: 'If you did not create an account, ignore this mail: the address stays unverified.',
      }
    case 'reset-password':
      return {
        subject: 'Reset your password',
        intro: 'Someone asked to reset the password of the account with this address.',
        action: { label: 'Choose a new password', link: template.link, validFor: '1 hour' },
        notYou:
          'If it was not you, ignore this mail: your password stays as it is. Using the link ends every session of the account.',
      }
    case 'confirm-email-change':
      return {
        subject: 'Confirm your new email address',
        intro: `Someone asked to move an account to this address (${template.newEmail}).`,
        action: { label: 'Confirm the new address', link: template.link, validFor: '1 hour' },
        notYou: 'If it was not you, ignore this mail: nothing changes.',
      }
    case 'email-change-notice':
      return {
        subject: 'Your email address is being changed',
        intro: `Someone with your password asked to move your account to ${template.newEmail}. The change happens when that address confirms it.`,
        notYou:
          'If it was not you, change your password now (or reset it from the sign-in page) and sign out all sessions.',
      }
  }
}

const htmlEntities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => htmlEntities[c] ?? c)
}

/** A user agent is the client's to choose: one line, bounded, before it goes in a mail. */
function oneLine(value: string, max = 200): string {
  const flat = value.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat || 'unknown'
}

export function renderMail(
  template: MailTemplate,
  requester: Requester,
  subjectPrefix: string,
): RenderedMail {
  const w = wording(template)
  const subject = subjectPrefix ? `${subjectPrefix} ${w.subject}` : w.subject
  const asked = [
    `Requested at: ${requester.at.toISOString()}`,
    `From IP address: ${oneLine(requester.ip, 64)}`,
    `Browser or app: ${oneLine(requester.userAgent)}`,
  ]
  const text = [
    w.intro,
    '',
    ...(w.action
      ? [
          `${w.action.label}:`,
          w.action.link,
          '',
          `The link works once, for ${w.action.validFor}.`,
          '',
        ]
      : []),
    ...asked,
    '',
    w.notYou,
    '',
  ].join('\n')
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body>`,
    `<p>${escapeHtml(w.intro)}</p>`,
    ...(w.action
      ? [
          `<p><a href="${escapeHtml(w.action.link)}">${escapeHtml(w.action.label)}</a></p>`,
          `<p>Or open this address: ${escapeHtml(w.action.link)}</p>`,
          `<p>The link works once, for ${escapeHtml(w.action.validFor)}.</p>`,
        ]
      : []),
    `<p>${asked.map(escapeHtml).join('<br>')}</p>`,
    `<p>${escapeHtml(w.notYou)}</p>`,
    '</body></html>',
    '',
  ].join('\n')
  return { subject, text, html }
}
