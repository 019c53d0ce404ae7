import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { principalOf, type Guards } from '../../auth/authenticate.js'
import type { EmailChange } from '../../domain/email-change.js'
import type { EmailVerification } from '../../domain/email-verification.js'
import type { PasswordReset } from '../../domain/password-reset.js'
import type { IpLimit } from '../../throttle/ip-limit.js'
import { contextOf } from '../request-context.js'
import {
  changeEmailRoute,
  confirmEmailChangeRoute,
  forgotPasswordRoute,
  resetPasswordRoute,
  sendVerificationRoute,
  verifyEmailRoute,
} from './schemas.js'

export interface EmailRoutesOptions {
  verification: EmailVerification
  passwordReset: PasswordReset
  emailChange: EmailChange
  guards: Guards
  /** The per-client-IP budget, counted before the body is parsed. */
  ipLimit: IpLimit
}

const accepted = { message: 'Accepted. If a mail is due, it is on its way.' }

/** Verification, password reset and email change (mounted at /v1). */
const emailRoutes: FastifyPluginAsyncTypebox<EmailRoutesOptions> = async (
  app,
  { verification, passwordReset, emailChange, guards, ipLimit },
) => {
  const signedIn = { onRequest: [ipLimit, guards.authenticate] }

  app.post(
    '/auth/email/verify/send',
    { ...signedIn, schema: sendVerificationRoute },
    async (request, reply) => {
      await verification.send(principalOf(request).user, contextOf(request))
      return reply.code(202).send(accepted)
    },
  )

  app.post('/auth/email/verify', { onRequest: ipLimit, schema: verifyEmailRoute }, (request) =>
    verification.verify(request.body.token, contextOf(request)),
  )

  app.post(
    '/auth/password/forgot',
    {
      onRequest: ipLimit,
      schema: forgotPasswordRoute,
      // Only once the answer is out does anything depend on the address.
      onResponse: (request, reply, done) => {
        if (reply.statusCode === 202) {
          passwordReset.forgotAfterAnswer(request.body.email, contextOf(request))
        }
        done()
      },
    },
    async (_request, reply) => reply.code(202).send(accepted),
  )

  app.post(
    '/auth/password/reset',
    { onRequest: ipLimit, schema: resetPasswordRoute },
    async (request, reply) => {
      await passwordReset.reset(request.body.token, request.body.newPassword, contextOf(request))
      return reply.code(204).send(null)
    },
  )

  app.post('/users/me/email', { ...signedIn, schema: changeEmailRoute }, async (request, reply) => {
    await emailChange.request(principalOf(request), request.body, contextOf(request))
    return reply.code(202).send(accepted)
  })

  app.post(
    '/auth/email/change/confirm',
    { onRequest: ipLimit, schema: confirmEmailChangeRoute },
    (request) => emailChange.confirm(request.body.token, contextOf(request)),
  )
}

export default emailRoutes
