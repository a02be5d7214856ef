import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthUser } from '../services/tokens/access-token.js'
import { MESSAGES, VerifyError } from './errors.js'
import { bearerChallenge, bearerToken, errorBody } from './http.js'
import { roleProblem, rolesFrom } from './roles.js'
import type { Verifier } from './verifier.js'

/** Express, Connect, or plain `node:http`: anything with this request, response and `next`. */
export type AuthenticatedRequest = IncomingMessage & { user?: AuthUser }
export type Next = (error?: unknown) => void
export type Middleware = (request: AuthenticatedRequest, response: ServerResponse, next: Next) => void

export interface MiddlewareOptions {
  /** RFC 6750 realm in WWW-Authenticate. Default "api". */
  realm?: string
  /** Called with every refusal (code and the internal reason), e.g. to log it. */
  onReject?: (error: VerifyError, request: AuthenticatedRequest) => void
}

function send (response: ServerResponse, error: VerifyError, realm: string) {
  response.statusCode = error.statusCode
  response.setHeader('www-authenticate', bearerChallenge(error, realm))
  response.setHeader('content-type', 'application/json; charset=utf-8')
  response.end(JSON.stringify(errorBody(error)))
}

/** Sets `req.user` from the Bearer token, or answers 401 in Tessera's error shape; other errors go to `next`. */
export function expressAuthenticate (verifier: Verifier, { realm = 'api', onReject }: MiddlewareOptions = {}): Middleware {
  return function authenticate (request, response, next) {
    const refuse = (error: unknown) => {
      if (!(error instanceof VerifyError)) return next(error)
      onReject?.(error, request)
      send(response, error, realm)
    }
    let token: string
    try {
      token = bearerToken(request.headers.authorization)
    } catch (error) {
      refuse(error)
      return
    }
    verifier.verify(token).then((user) => {
      request.user = user
      next()
    }, refuse)
  }
}

/** Answers 403 FORBIDDEN unless `req.user` has at least one of `roles`. Use it after `expressAuthenticate`. */
export function requireRole (...roles: string[]): Middleware {
  const wanted = rolesFrom(roles)
  return function roleCheck (request, response, next) {
    const problem = roleProblem(request.user, wanted)
    if (problem === undefined) return next()
    const error = problem === 'no user'
      ? new VerifyError('TOKEN_MISSING', MESSAGES.missing, 'requireRole ran before authenticate')
      : new VerifyError('FORBIDDEN', MESSAGES.forbidden, problem)
    send(response, error, 'api')
  }
}
