import { STATUS_CODES } from 'node:http'
import { invalidToken, MESSAGES, VerifyError } from './errors.js'

/* What the Fastify plugin and the middleware both send: Tessera's own error shape and challenge. */

/** The JSON body Tessera answers errors with: `{ statusCode, code, error, message }`. */
export function errorBody (error: VerifyError) {
  return { statusCode: error.statusCode, code: error.code, error: STATUS_CODES[error.statusCode] ?? 'Error', message: error.message }
}

/**
 * RFC 6750 §3: no credentials get the bare challenge, a bad token `invalid_token`, a missing role
 * `insufficient_scope` (§3.1). Same text as Tessera's error handler for the 401s.
 */
export function bearerChallenge (error: VerifyError, realm: string): string {
  if (error.code === 'TOKEN_MISSING') return `Bearer realm="${realm}"`
  const kind = error.code === 'FORBIDDEN' ? 'insufficient_scope' : 'invalid_token'
  return `Bearer realm="${realm}", error="${kind}", error_description="${error.message}"`
}

const BEARER = /^Bearer +([^ ]+) *$/i

/** RFC 6750 §2.1, as Tessera reads it: only the Authorization header, never the query string or body. */
export function bearerToken (header: string | undefined): string {
  if (header === undefined || header === '') throw new VerifyError('TOKEN_MISSING', MESSAGES.missing, 'no Authorization header')
  const match = BEARER.exec(header)
  if (!match?.[1]) throw invalidToken('Authorization is not a Bearer token')
  return match[1]
}
