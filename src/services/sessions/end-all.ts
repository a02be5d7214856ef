import type { Store } from '../../store/types.js'

/**
 * Ends every session of a user: each refresh-token family is revoked, and a user-wide not-before time is
 * published so verifiers that follow revocations also drop access tokens issued before now (even those of
 * sessions that had already ended). Shared by logout-all, password change and the admin CLI.
 */
export async function endAllSessions (store: Store, { userId, reason, now, tokenLifetime }: {
  userId: string
  reason: string
  now: number
  /** Seconds (token lifetime plus clock skew); after this no token issued before `now` can be accepted, so the entry can be dropped. */
  tokenLifetime: number
}): Promise<string[]> {
  const revoked = await store.sessions.revokeUserFamilies(userId, reason, now)
  const expiresAt = now + tokenLifetime * 1000
  // Per-session entries refuse tokens issued in this very second, which the not-before (whole seconds, like iat)
  // cannot tell apart from a new login right after; the not-before covers sessions that had already ended.
  for (const familyId of revoked) {
    await store.revocations.add({ kind: 'session', subject: familyId, notBefore: null, createdAt: now, expiresAt })
  }
  const notBefore = Math.floor(now / 1000)
  await store.users.setTokensNotBefore(userId, notBefore, now)
  await store.revocations.add({ kind: 'user', subject: userId, notBefore, createdAt: now, expiresAt })
  return revoked
}
