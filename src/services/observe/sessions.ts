import { isAppError } from '../../errors.js'
import type { Store } from '../../store/types.js'
import type { RefreshOutcome, ServiceEvents } from '../events.js'
import type { Sessions } from '../sessions/sessions.js'

/** The internal reason sessions.ts gives a refused reuse (logged, never sent); test/plugins/metrics.test.ts pins it. */
const REUSE_REASON = 'refresh token reuse'

function refreshOutcome (error: unknown): RefreshOutcome {
  if (!isAppError(error) || error.code !== 'REFRESH_TOKEN_INVALID') return 'error'
  return error.reason === REUSE_REASON ? 'reuse' : 'invalid'
}

/** Reports each refresh's outcome; results and errors pass through untouched. */
export function observeSessions (sessions: Sessions, events: ServiceEvents): Sessions {
  return {
    start: async (user) => await sessions.start(user),
    logout: async (token) => await sessions.logout(token),
    endAll: async (userId, reason) => await sessions.endAll(userId, reason),
    async refresh (token) {
      try {
        const tokens = await sessions.refresh(token)
        events.refresh('ok')
        return tokens
      } catch (error) {
        events.refresh(refreshOutcome(error))
        throw error
      }
    }
  }
}

/**
 * The store as the session service sees it, reporting each revocation with its reason and the number of
 * families it really revoked (a logout of an ended session revokes nothing). Everything else is delegated.
 */
export function observeRevocations (store: Store, events: ServiceEvents): Store {
  const inner = store.sessions
  return {
    kind: store.kind,
    users: store.users,
    revocations: store.revocations,
    migrate: async () => await store.migrate(),
    ping: async () => await store.ping(),
    close: async () => await store.close(),
    sessions: {
      createFamily: async (family, firstTokenHash) => await inner.createFamily(family, firstTokenHash),
      findToken: async (hash) => await inner.findToken(hash),
      findForRefresh: async (hash) => await inner.findForRefresh(hash),
      rotate: async (hash, successor, now) => await inner.rotate(hash, successor, now),
      purgeExpired: async (before) => await inner.purgeExpired(before),
      async revokeFamily (familyId, reason, now) {
        const revoked = await inner.revokeFamily(familyId, reason, now)
        if (revoked) events.revoked(reason, 1)
        return revoked
      },
      async revokeUserFamilies (userId, reason, now) {
        const revoked = await inner.revokeUserFamilies(userId, reason, now)
        if (revoked.length > 0) events.revoked(reason, revoked.length)
        return revoked
      }
    }
  }
}
