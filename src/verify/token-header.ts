import { headerProblem } from '../services/tokens/access-token.js'
import { invalidToken, MESSAGES, VerifyError } from './errors.js'

/** Distinct headers remembered; every token of one key shares one header, so a few cover real traffic. */
const MAX_HEADERS = 64
const headers = new Map<string, { kid: string } | { problem: string }>()

/**
 * The `kid` of a token, to pick its key before any signature work. The decoded header is remembered by its
 * encoded form, so the hot path is a string slice and a map lookup, not base64 + JSON per request. The same
 * header rules as Tessera's hook apply (no jku/x5u/jwk/x5c, a kid is required); fast-jwt checks the rest.
 */
export function tokenKid (token: unknown): string {
  if (token === undefined || token === null || token === '') throw new VerifyError('TOKEN_MISSING', MESSAGES.missing, 'no token')
  if (typeof token !== 'string') throw invalidToken('token is not a string')
  const dot = token.indexOf('.')
  if (dot <= 0) throw invalidToken('not a JWS in compact form')
  const encoded = token.slice(0, dot)
  let header = headers.get(encoded)
  if (header === undefined) {
    header = readHeader(encoded)
    // Headers of garbage tokens must not grow this without bound: start over when full.
    if (headers.size >= MAX_HEADERS) headers.clear()
    headers.set(encoded, header)
  }
  if ('problem' in header) throw invalidToken(header.problem)
  return header.kid
}

function readHeader (encoded: string): { kid: string } | { problem: string } {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch {
    return { problem: 'header is not base64url JSON' }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { problem: 'header is not an object' }
  const problem = headerProblem(header as Record<string, unknown>)
  return problem === undefined ? { kid: (header as { kid: string }).kid } : { problem }
}
