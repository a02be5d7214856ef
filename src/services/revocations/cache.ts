import type { Clock } from '../../clock.js'
import type { RevocationStore } from '../../store/types.js'
import { readRevocationFeed } from './feed.js'
import { createRevocationList, type RevocableToken } from './list.js'

/** Pages read per refresh at most, so a refresh always ends even while revocations keep arriving. */
const MAX_PAGES = 20

/**
 * Tessera's own copy of the revocation feed, refreshed from the store on a timer (see plugins/revocations.ts):
 * the verify hook checks it in memory, so a logout reaches this replica within one refresh interval and no
 * request ever waits on the database.
 */
export interface RevocationCache {
  check (token: RevocableToken): string | undefined
  /** Reads what is new since the last refresh. Concurrent calls share one read. */
  refresh (): Promise<void>
  readonly size: number
}

export function createRevocationCache ({ store, clock }: {
  store: RevocationStore
  clock: Clock
}): RevocationCache {
  const list = createRevocationList()
  let cursor = 0
  let running: Promise<void> | undefined

  async function load () {
    for (let page = 0; page < MAX_PAGES; page++) {
      const { entries, cursor: next, hasMore } = await readRevocationFeed(store, { after: cursor, now: clock.now() })
      for (const entry of entries) {
        const keepUntil = entry.expiresAt
        if (entry.kind === 'session') list.addSession(entry.subject, keepUntil)
        else if (entry.notBefore !== null) list.addUser(entry.subject, entry.notBefore, keepUntil)
      }
      // A full page that could not advance the cursor is all too young to settle: reading it again now would
      // return the same rows, so wait for the next refresh.
      const advanced = next > cursor
      cursor = next
      if (!hasMore || !advanced) break
    }
    list.prune(clock.now())
  }

  return {
    check: (token) => list.check(token),
    refresh () {
      running ??= load().finally(() => { running = undefined })
      return running
    },
    get size () {
      return list.size
    }
  }
}
