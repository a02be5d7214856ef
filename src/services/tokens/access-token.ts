import { randomUUID } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import type { Algorithm } from '../../config.js'
import type { Clock } from '../../clock.js'
import type { Keyring, SigningKey } from '../keys/keyring.js'

/** RFC 9068 §2.1: access tokens carry `typ: at+jwt`, so an ID token or any other JWT cannot be replayed as one. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

export interface AccessClaims {
  iss: string
  aud: string
  sub: string
  iat: number
  exp: number
  jti: string
  sid: string
  username: string
  roles: string[]
}

/** What a verified token turns into: `request.user` on Tessera, the result of `verify()` in the kit. */
export interface AuthUser {
  id: string
  username: string
  roles: readonly string[]
  sessionId: string
  tokenId: string
  issuedAt: number
  expiresAt: number
}

export interface TokenRules {
  issuer: string
  audience: string
  algorithms: readonly Algorithm[]
  /** Seconds of leeway for exp, nbf and iat. */
  clockSkew: number
  /** Seconds; a token claiming to live longer than this was not issued by the configured service. */
  maxLifetime: number
}

/**
 * fast-jwt verifier options for an access token: one definition shared by Tessera's verify hook and the
 * verification kit, so the two can never disagree (RFC 8725 §3.1 pinned algorithms, §3.8-3.9 iss/aud, §3.11 typ).
 */
export function verifierOptions (rules: TokenRules) {
  return {
    algorithms: [...rules.algorithms],
    allowedIss: rules.issuer,
    allowedAud: rules.audience,
    checkTyp: ACCESS_TOKEN_TYP,
    requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
    clockTolerance: rules.clockSkew * 1000,
    // exp and nbf are checked by claimProblem and isExpired against the caller's clock: fast-jwt reads Date.now()
    // (its clockTimestamp is fixed when a verifier is built), and a cached token must be checked again on each use.
    ignoreExpiration: true,
    ignoreNotBefore: true,
    // Callers keep their own cache of verified tokens (VerifiedTokens), keyed by the token itself.
    cache: false
  }
}

/** Why a token with a valid signature is still refused. Checks fast-jwt does not make itself. */
export function claimProblem (payload: Record<string, unknown>, rules: TokenRules, now: number): string | undefined {
  const { sub, iat, exp, nbf, jti, sid, username, roles } = payload
  if (typeof sub !== 'string' || sub === '') return 'sub is not a string'
  if (typeof jti !== 'string' || jti === '') return 'jti is not a string'
  // Finite: JSON's 1e400 parses as Infinity, and Infinity - Infinity is NaN, which no comparison below would catch.
  if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat) || !Number.isFinite(exp)) return 'iat/exp are not finite numbers'
  if (iat * 1000 > now + rules.clockSkew * 1000) return 'iat is in the future'
  // RFC 7519 §4.1.5, also checked here so that it follows the same clock as iat and exp.
  if (nbf !== undefined && typeof nbf !== 'number') return 'nbf is not a number'
  if (typeof nbf === 'number' && nbf * 1000 > now + rules.clockSkew * 1000) return 'nbf is in the future'
  if (exp - iat > rules.maxLifetime) return `lifetime ${exp - iat}s exceeds ${rules.maxLifetime}s`
  if (typeof username !== 'string') return 'username is not a string'
  if (sid !== undefined && typeof sid !== 'string') return 'sid is not a string'
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) return 'roles is not a list of strings'
  return undefined
}

/** RFC 7519 §4.1.4 with the skew as leeway. Call after claimProblem, which makes sure exp is a number. */
export function isExpired (payload: Record<string, unknown>, rules: TokenRules, now: number): boolean {
  return (payload['exp'] as number) * 1000 + rules.clockSkew * 1000 < now
}

/**
 * Claims as kept in a cache of verified tokens: frozen, roles included, so that code handed the user of one
 * request (which shares the roles list) cannot change what the next request with the same token sees.
 */
export function frozenClaims (payload: Record<string, unknown>): Readonly<Record<string, unknown>> {
  if (Array.isArray(payload['roles'])) Object.freeze(payload['roles'])
  return Object.freeze(payload)
}

export function toAuthUser (payload: Record<string, unknown>): AuthUser {
  return {
    id: payload['sub'] as string,
    username: payload['username'] as string,
    roles: payload['roles'] as readonly string[],
    sessionId: (payload['sid'] as string | undefined) ?? '',
    tokenId: payload['jti'] as string,
    issuedAt: payload['iat'] as number,
    expiresAt: payload['exp'] as number
  }
}

/** Headers that would let a token choose its own verification key (RFC 8725 §3.10): never honoured, always refused. */
const KEY_SELECTING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const

export function headerProblem (header: Record<string, unknown>): string | undefined {
  for (const name of KEY_SELECTING_HEADERS) if (name in header) return `${name} header is not allowed`
  // RFC 7515 §4.1.11: crit is a non-empty list. fast-jwt checks it only when truthy, so `"crit": null` would pass there.
  if ('crit' in header && !Array.isArray(header['crit'])) return 'crit header is not a list'
  if (typeof header['kid'] !== 'string') return 'kid header is missing'
  return undefined
}

export interface AccessTokenSigner {
  sign (subject: { id: string, username: string, roles: readonly string[] }, sessionId: string): { token: string, expiresIn: number, claims: AccessClaims }
}

export function createAccessTokenSigner ({ keyring, clock, issuer, audience, ttl }: {
  keyring: Keyring
  clock: Clock
  issuer: string
  audience: string
  ttl: number
}): AccessTokenSigner {
  // One fast-jwt signer per key, built once: parsing the key is the expensive part (fast-jwt README, "createSigner").
  const signers = new WeakMap<SigningKey, (payload: AccessClaims) => string>()

  function signerFor (key: SigningKey) {
    let signer = signers.get(key)
    if (!signer) {
      signer = createSigner({
        key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithm: key.alg,
        kid: key.kid,
        header: { alg: key.alg, typ: ACCESS_TOKEN_TYP }
      }) as (payload: AccessClaims) => string
      signers.set(key, signer)
    }
    return signer
  }

  return {
    sign (subject, sessionId) {
      const key = keyring.signingKey()
      // iat and exp come from the injected clock (fast-jwt keeps a given iat), so `exp - iat` is exactly expires_in.
      const iat = Math.floor(clock.now() / 1000)
      const claims: AccessClaims = {
        iss: issuer,
        aud: audience,
        sub: subject.id,
        iat,
        exp: iat + ttl,
        jti: randomUUID(),
        sid: sessionId,
        username: subject.username,
        roles: [...subject.roles]
      }
      return { token: signerFor(key)(claims), expiresIn: ttl, claims }
    }
  }
}
