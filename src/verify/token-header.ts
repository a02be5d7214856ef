import { headerProblem } from '../services/tokens/access-token.js'
import { invalidToken, MESSAGES, VerifyError } from './errors.js'

/** Distinct headers remembered; every token of one key shares one header, so a few cover real traffic. */
const MAX_HEADERS = 64
const headers = new Map<string, { kid: string, encoded: string } | { problem: string }>()
/** The header seen last, flat (a fresh string, not a slice of a token) so that `startsWith` stays on its fast path. */
const last = { encoded: '', kid: '' }
const DOT = 46

/**
 * The `kid` of a token, to pick its key before any signature work. The decoded header is remembered by its
 * encoded form, so the hot path is a prefix comparison (or a map lookup), not base64 + JSON per request. The same
 * header rules as Tessera's hook apply (no jku/x5u/jwk/x5c, a kid is required); fast-jwt checks the rest.
 */
export function tokenKid (token: unknown): string {
  if (token === undefined || token === null || token === '') throw new VerifyError('TOKEN_MISSING', MESSAGES.missing, 'no token')
  if (typeof token !== 'string') throw invalidToken('token is not a string')
  // Nearly every token carries the same header as the previous one (one signing key at a time): compare in
  // place, without slicing or hashing.
  if (last.kid !== '' && token.charCodeAt(last.encoded.length) === DOT && token.startsWith(last.encoded)) return last.kid
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
  last.encoded = header.encoded
  last.kid = header.kid
  return header.kid
}

function readHeader (encoded: string): { kid: string, encoded: string } | { problem: string } {
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))
  } catch {
    return { problem: 'header is not base64url JSON' }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return { problem: 'header is not an object' }
  const problem = headerProblem(header as Record<string, unknown>)
  if (problem !== undefined) return { problem }
  // A copy, not a slice of the token: the token can then be collected, and `startsWith` compares flat strings.
  return { kid: (header as { kid: string }).kid, encoded: Buffer.from(encoded, 'latin1').toString('latin1') }
}
