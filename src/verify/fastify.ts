import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { AuthUser } from '../services/tokens/access-token.js'
import { MESSAGES, VerifyError } from './errors.js'
import { bearerChallenge, bearerToken, errorBody } from './http.js'
import type { VerifierOptions } from './options.js'
import { roleProblem, rolesFrom } from './roles.js'
import { createVerifier, type Verifier } from './verifier.js'

// Inline import() types: the emitted .d.ts keeps them, where it drops imported names used only in here.
declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: sets `request.user` from the Bearer token or answers 401 with WWW-Authenticate. */
    authenticate (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply): Promise<void>
    /** A hook that answers 403 FORBIDDEN unless `request.user` has at least one of `roles`. Add it after `authenticate`. */
    requireRole (...roles: string[]): (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    user: AuthUser
  }
}

export type TesseraVerifyOptions = ({ verifier: Verifier } | VerifierOptions) & {
  /** RFC 6750 realm in WWW-Authenticate. Default: the audience, or "api". */
  realm?: string
}

async function send (reply: FastifyReply, error: VerifyError, realm: string) {
  reply.request.log.info({ code: error.code, reason: error.reason }, 'request rejected')
  await reply.header('www-authenticate', bearerChallenge(error, realm)).code(error.statusCode).type('application/json; charset=utf-8').send(errorBody(error))
}

/**
 * `tessera/verify` for Fastify: register it, then put `app.authenticate` (and `app.requireRole(...)`) in the
 * `onRequest` hooks of the routes or scopes to protect. The hooks answer failures themselves, in Tessera's error
 * shape, whatever error handler the service has.
 */
async function tesseraVerifyPlugin (app: FastifyInstance, options: TesseraVerifyOptions) {
  const owned = !('verifier' in options)
  const verifier = 'verifier' in options ? options.verifier : createVerifier({ logger: app.log, ...options })
  const realm = options.realm ?? ('audience' in options ? options.audience : 'api')
  if (owned) app.addHook('onClose', async () => verifier.close())
  // Keys and the first revocation list are loaded while the service starts, not on its first request.
  app.addHook('onReady', async () => await verifier.ready())

  if (!app.hasRequestDecorator('user')) app.decorateRequest('user', null as unknown as AuthUser)

  app.decorate('authenticate', async function authenticate (request: FastifyRequest, reply: FastifyReply) {
    try {
      request.user = await verifier.verify(bearerToken(request.headers.authorization))
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error
      await send(reply, error, realm)
    }
  })

  app.decorate('requireRole', function requireRole (...roles: string[]) {
    const wanted = rolesFrom(roles)
    return async function roleCheck (request: FastifyRequest, reply: FastifyReply) {
      const problem = roleProblem(request.user, wanted)
      if (problem === 'no user') await send(reply, new VerifyError('TOKEN_MISSING', MESSAGES.missing, 'requireRole ran before authenticate'), realm)
      else if (problem !== undefined) await send(reply, new VerifyError('FORBIDDEN', MESSAGES.forbidden, problem), realm)
    }
  })
}

export const tesseraVerify = fp(tesseraVerifyPlugin, { name: 'tessera-verify', fastify: '5.x' })
