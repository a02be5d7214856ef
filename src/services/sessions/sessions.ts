import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../../clock.js'
import { AppError } from '../../errors.js'
import type { Store, User } from '../../store/types.js'
import type { AccessTokenSigner } from '../tokens/access-token.js'
import { endAllSessions } from './end-all.js'
import { deriveSuccessor, hashRefreshToken, newNonce, newRefreshToken, REFRESH_TOKEN_PATTERN } from './refresh-token.js'

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  refresh_expires_in: number
  user: User
}

export interface Sessions {
  /** Starts a refresh-token family (a login session) and returns its first tokens. */
  start (user: User): Promise<TokenResponse>
  refresh (refreshToken: string): Promise<TokenResponse>
  /** Ends the session the token belongs to. Unknown, spent or revoked tokens are fine: logout is idempotent. */
  logout (refreshToken: string): Promise<void>
  /** Ends every session of the user and refuses their older access tokens at verifiers that follow revocations. */
  endAll (userId: string, reason: string): Promise<void>
}

const invalid = (reason: string) => new AppError('REFRESH_TOKEN_INVALID', 'The refresh token is invalid or expired', { reason })

export function createSessions ({ store, signer, clock, log, refreshTtl, tokenLifetime, reuseGrace }: {
  store: Store
  signer: AccessTokenSigner
  clock: Clock
  log: FastifyBaseLogger
  refreshTtl: number
  tokenLifetime: number
  reuseGrace: number
}): Sessions {
  function respond (user: User, familyId: string, expiresAt: number, refreshToken: string): TokenResponse {
    const { token, expiresIn } = signer.sign(user, familyId)
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: refreshToken,
      refresh_expires_in: Math.max(0, Math.floor((expiresAt - clock.now()) / 1000)),
      user: { id: user.id, username: user.username, roles: user.roles }
    }
  }

  /** Verifiers that follow the revocation feed drop access tokens of this session until they would have expired anyway. */
  async function publishSessionRevocation (familyId: string, now: number) {
    await store.revocations.add({ kind: 'session', subject: familyId, notBefore: null, createdAt: now, expiresAt: now + tokenLifetime * 1000 })
  }

  async function revokeFamily (familyId: string, reason: string, now: number) {
    if (await store.sessions.revokeFamily(familyId, reason, now)) await publishSessionRevocation(familyId, now)
  }

  async function refresh (refreshToken: string, retry = true): Promise<TokenResponse> {
    if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) throw invalid('not a refresh token')
    const hash = hashRefreshToken(refreshToken)
    const found = await store.sessions.findForRefresh(hash)
    if (!found) throw invalid('unknown refresh token')
    const { token, family, user } = found
    const now = clock.now()
    if (family.revokedAt !== null) throw invalid(`session revoked (${family.revokeReason ?? 'unknown'})`)
    if (family.expiresAt <= now) throw invalid('session expired')
    if (!user || user.disabledAt !== null) {
      await revokeFamily(family.id, 'user-disabled', now)
      throw invalid('user is gone or disabled')
    }

    if (token.spentAt === null) {
      const nonce = newNonce()
      const successor = deriveSuccessor(refreshToken, nonce)
      if (await store.sessions.rotate(hash, { hash: hashRefreshToken(successor), nonce }, now)) {
        return respond(user, family.id, family.expiresAt, successor)
      }
      // Another request (here or on another replica) rotated it first, or a logout ended the session meanwhile:
      // read it again and answer as the retry (or the refusal) it now is.
      if (retry) return await refresh(refreshToken, false)
      throw invalid('refresh token changed during rotation')
    }

    // Spent. A retry right after a rotation (two tabs, a lost response) gets the same successor, if that
    // successor has not itself been used; anything else is reuse of a stolen token (RFC 9700 §4.14.2).
    // Strictly less than: REFRESH_REUSE_GRACE=0 must turn the window off, even within the same millisecond.
    if (token.rotationNonce !== null && token.successorHash !== null && now - token.spentAt < reuseGrace * 1000) {
      const successor = deriveSuccessor(refreshToken, token.rotationNonce)
      const next = await store.sessions.findToken(token.successorHash)
      if (next && next.token.spentAt === null && hashRefreshToken(successor) === token.successorHash) {
        return respond(user, family.id, family.expiresAt, successor)
      }
    }
    await revokeFamily(family.id, 'reuse', now)
    log.warn({ event: 'refresh_token_reuse', userId: family.userId, familyId: family.id, spentAt: token.spentAt },
      'refresh token reuse detected: session revoked')
    throw invalid('refresh token reuse')
  }

  return {
    async start (user) {
      const now = clock.now()
      const family = { id: randomUUID(), userId: user.id, createdAt: now, expiresAt: now + refreshTtl * 1000 }
      const refreshToken = newRefreshToken()
      await store.sessions.createFamily(family, hashRefreshToken(refreshToken))
      return respond(user, family.id, family.expiresAt, refreshToken)
    },

    refresh: async (refreshToken) => await refresh(refreshToken),

    async logout (refreshToken) {
      if (!REFRESH_TOKEN_PATTERN.test(refreshToken)) return
      const found = await store.sessions.findToken(hashRefreshToken(refreshToken))
      if (!found) return
      await revokeFamily(found.family.id, 'logout', clock.now())
      log.info({ event: 'logout', userId: found.family.userId, familyId: found.family.id }, 'session ended')
    },

    async endAll (userId, reason) {
      const revoked = await endAllSessions(store, { userId, reason, now: clock.now(), tokenLifetime })
      log.info({ event: 'sessions_ended', userId, reason, families: revoked.length }, 'all sessions of the user ended')
    }
  }
}
