import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import { AppError } from '../errors.js'
import type { Keyring } from '../services/keys/keyring.js'
import { claimProblem, frozenClaims, headerProblem, isExpired, toAuthUser, verifierOptions, type AuthUser, type TokenRules } from '../services/tokens/access-token.js'
import { VERIFIED_TOKENS_MAX, VerifiedTokens } from '../services/tokens/verified-tokens.js'
import { tokenKid } from '../verify/token-header.js'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    user: AuthUser
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The verify hook: add it with `onRequest` inside the scope of protected routes only. */
    authenticate (request: FastifyRequest): Promise<void>
  }
}

/** Extra checks on a verified token, e.g. revocations (issue 5). Return a reason to refuse it. */
export type TokenCheck = (user: AuthUser) => string | undefined

export interface AuthenticateOptions {
  keyring: Keyring
  rules: TokenRules
  clock: Clock
  checks?: TokenCheck[]
}

const BEARER = /^Bearer +([^ ]+) *$/i

/** Reads only the Authorization header (RFC 6750 §2.1); a token in the query string or body is never looked at. */
function bearerToken (request: FastifyRequest): string {
  const header = request.headers.authorization
  if (header === undefined || header === '') {
    throw new AppError('TOKEN_MISSING', 'An access token is required', { reason: 'no Authorization header' })
  }
  // RFC 6750 §3.1: another scheme (Basic, ...) counts as no authentication information, so no error code either.
  if (!/^Bearer(?:\s|$)/i.test(header)) {
    throw new AppError('TOKEN_MISSING', 'An access token is required', { reason: 'Authorization is not a Bearer credential' })
  }
  const match = BEARER.exec(header)
  if (!match?.[1]) throw new AppError('TOKEN_INVALID', 'The access token is invalid', { reason: 'Authorization is not a Bearer token' })
  return match[1]
}

async function authenticatePlugin (app: FastifyInstance, { keyring, rules, clock, checks = [] }: AuthenticateOptions) {
  await app.register(fastifyJwt, {
    // Verify-only: Tessera signs in services/tokens; this plugin only ever sees public keys.
    secret: {
      // Callback style, as @fastify/jwt wraps a static key: no promise and no extra microtask per request.
      public: (_request: FastifyRequest, token: unknown, done: (error: Error | null, key?: string) => void) => {
        const header = (token as { header?: Record<string, unknown> }).header ?? {}
        const problem = headerProblem(header)
        if (problem) return done(new AppError('TOKEN_INVALID', 'The access token is invalid', { reason: problem }))
        const key = keyring.verificationKey(header['kid'] as string)
        if (!key) return done(new AppError('TOKEN_INVALID', 'The access token is invalid', { reason: 'unknown kid' }))
        // A PEM string lets @fastify/jwt keep one verifier per key.
        done(null, key.publicPem)
      }
    },
    decode: { complete: true },
    verify: { ...verifierOptions(rules), extractToken: bearerToken }
  })

  /** Verified tokens and the kid that verified them; see VerifiedTokens for what a hit skips and what it does not. */
  const verified = new VerifiedTokens<{ kid: string, payload: Readonly<Record<string, unknown>> }>(VERIFIED_TOKENS_MAX)

  /** Checks of a signed token that depend on the clock or the claims' shape: on every request, cached or not. */
  function accept (payload: Readonly<Record<string, unknown>>): AuthUser {
    const now = clock.now()
    const problem = claimProblem(payload, rules, now)
    if (problem) throw new AppError('TOKEN_INVALID', 'The access token is invalid', { reason: problem })
    if (isExpired(payload, rules, now)) throw new AppError('TOKEN_EXPIRED', 'The access token has expired', { reason: 'exp is in the past' })
    return toAuthUser(payload)
  }

  app.decorate('authenticate', async function authenticate (request: FastifyRequest) {
    try {
      const token = bearerToken(request)
      const hit = verified.get(token)
      // A hit is the same bytes whose signature was checked; its key must still be one this service trusts
      // (a retired key's tokens stop working at once, cached or not).
      if (hit !== undefined && keyring.verificationKey(hit.kid) !== undefined) {
        request.user = accept(hit.payload)
      } else {
        // @fastify/jwt: header rules and key by kid (`secret.public` above), then fast-jwt's signature and claim checks.
        const payload = frozenClaims(await request.jwtVerify<Record<string, unknown>>())
        request.user = accept(payload)
        // The kit's header reader: the header is remembered by its encoded form, so this is a prefix comparison.
        verified.set(token, { kid: tokenKid(token), payload })
      }
      for (const check of checks) {
        const reason = check(request.user)
        if (reason) throw new AppError('TOKEN_INVALID', 'The access token has been revoked', { reason })
      }
    } catch (error) {
      throw toTokenError(error)
    }
  })
}

/**
 * Whatever the library says, the client sees one of three codes; the library's reason goes to the log only.
 * Expiry is never the library's verdict: exp is checked in `accept` against the injected clock.
 */
function toTokenError (error: unknown): AppError {
  if (error instanceof AppError) return error
  const { code, message } = error as { code?: string, message?: string }
  return new AppError('TOKEN_INVALID', 'The access token is invalid', { reason: `${code ?? 'error'}: ${message ?? ''}` })
}

export const authenticate = fp(authenticatePlugin, { name: 'tessera-authenticate', dependencies: ['tessera-error-handler'] })
