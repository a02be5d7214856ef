import type { AuthUser } from '../tokens/access-token.js'

/** What a revocation check needs from a verified token. */
export type RevocableToken = Pick<AuthUser, 'id' | 'sessionId' | 'issuedAt'>

/**
 * The revocations a verifier holds in memory: revoked session ids and per-user not-before times, each kept
 * until no token it can affect could still be accepted. Shared by Tessera's own hook and the verification
 * kit, so both refuse exactly the same tokens. `check` is two map lookups: it runs on every request.
 */
export interface RevocationList {
  addSession (sessionId: string, keepUntil: number): void
  /** `notBefore` in seconds, like `iat`: tokens of the user issued before it are refused. */
  addUser (userId: string, notBefore: number, keepUntil: number): void
  /** Why the token is refused, or undefined. */
  check (token: RevocableToken): string | undefined
  /** Forgets entries whose `keepUntil` (ms) has passed. */
  prune (now: number): void
  readonly size: number
}

export function createRevocationList (): RevocationList {
  const sessions = new Map<string, number>()
  const users = new Map<string, { notBefore: number, keepUntil: number }>()

  return {
    addSession (sessionId, keepUntil) {
      sessions.set(sessionId, Math.max(keepUntil, sessions.get(sessionId) ?? 0))
    },
    addUser (userId, notBefore, keepUntil) {
      const known = users.get(userId)
      users.set(userId, {
        notBefore: Math.max(notBefore, known?.notBefore ?? 0),
        keepUntil: Math.max(keepUntil, known?.keepUntil ?? 0)
      })
    },
    check ({ id, sessionId, issuedAt }) {
      if (sessionId !== '' && sessions.has(sessionId)) return 'session revoked'
      const user = users.get(id)
      // Strictly before: a login in the same second as a logout-all must keep working. The tokens of the
      // sessions ended in that second are refused by their own session entries (sessions.endAll writes both).
      if (user !== undefined && issuedAt < user.notBefore) return 'issued before the user\'s not-before time'
      return undefined
    },
    prune (now) {
      for (const [sessionId, keepUntil] of sessions) if (keepUntil <= now) sessions.delete(sessionId)
      for (const [userId, { keepUntil }] of users) if (keepUntil <= now) users.delete(userId)
    },
    get size () {
      return sessions.size + users.size
    }
  }
}
