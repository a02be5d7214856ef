import { createRevocationList, type RevocableToken } from '../services/revocations/list.js'
import { fetchJson, type FetchSettings } from './fetch-json.js'
import type { VerifyLogger } from './options.js'

/** Pages read per poll at most, so a poll always ends even while revocations keep arriving. */
const MAX_PAGES = 20

export interface RevocationPoller {
  /** Resolves after the first poll has been tried (whatever its outcome). Starts polling. */
  ready (): Promise<void>
  check (token: RevocableToken): string | undefined
  close (): void
}

interface FeedBody {
  revoked_sessions: unknown
  user_not_before: unknown
  cursor: unknown
  has_more: unknown
  retain_seconds: unknown
}

/**
 * Follows Tessera's GET /auth/revocations. A logout reaches this verifier within one interval (plus the feed's
 * max-age when a cache sits in between). While the feed cannot be fetched the last list is kept, or, with
 * `failClosed`, every token is refused until a poll succeeds again; both are logged once per outage.
 */
export function createRevocationPoller ({ url, intervalMs, failClosed, maxRetainMs, fetchSettings, clock, log }: {
  url: () => Promise<string>
  intervalMs: number
  failClosed: boolean
  /** Entries are never kept longer than a token can live here (maxLifetime + skew). */
  maxRetainMs: number
  fetchSettings: FetchSettings
  clock: { now (): number }
  log: VerifyLogger
}): RevocationPoller {
  const list = createRevocationList()
  const closing = new AbortController()
  const settings = { ...fetchSettings, signal: closing.signal }
  let cursor: string | undefined
  let unavailable = false
  let timer: NodeJS.Timeout | undefined
  let first: Promise<void> | undefined

  async function readPage (base: string): Promise<boolean> {
    const target = cursor === undefined ? base : `${base}${base.includes('?') ? '&' : '?'}since=${encodeURIComponent(cursor)}`
    const { status, body } = await fetchJson(target, settings)
    if (status === 400 && cursor !== undefined) {
      // The cursor is not understood (another Tessera, a reset database): start over with the full live list.
      cursor = undefined
      return true
    }
    if (status !== 200) throw new Error(`${base} answered ${status}`)
    const feed = body as Partial<FeedBody> | undefined
    if (!Array.isArray(feed?.revoked_sessions) || typeof feed.user_not_before !== 'object' || feed.user_not_before === null ||
      typeof feed.cursor !== 'string') {
      throw new Error(`${base} is not a revocation feed`)
    }
    const now = clock.now()
    const retain = typeof feed.retain_seconds === 'number' && feed.retain_seconds > 0 ? Math.min(feed.retain_seconds * 1000, maxRetainMs) : maxRetainMs
    for (const sid of feed.revoked_sessions) if (typeof sid === 'string') list.addSession(sid, now + retain)
    for (const [userId, notBefore] of Object.entries(feed.user_not_before as Record<string, unknown>)) {
      if (typeof notBefore === 'number') list.addUser(userId, notBefore, now + retain)
    }
    const advanced = feed.cursor !== cursor
    cursor = feed.cursor
    return feed.has_more === true && advanced
  }

  async function poll () {
    try {
      const base = await url()
      let page = 0
      while (await readPage(base) && ++page < MAX_PAGES) {
        // has_more with a cursor that moved: read the next page at once.
      }
      list.prune(clock.now())
      if (unavailable) log.info({ event: 'revocations_feed_recovered' }, 'revocation feed reachable again')
      unavailable = false
    } catch (error) {
      if (closing.signal.aborted) return
      if (!unavailable) {
        log.warn({ event: 'revocations_feed_unavailable', reason: (error as Error).message, mode: failClosed ? 'fail-closed' : 'keep' },
          failClosed ? 'revocation feed unavailable: refusing every token until it answers' : 'revocation feed unavailable: keeping the last list')
      }
      unavailable = true
    }
  }

  function schedule () {
    if (closing.signal.aborted) return
    timer = setTimeout(() => { void poll().finally(schedule) }, intervalMs)
    // Polling alone never keeps a process alive.
    timer.unref()
  }

  return {
    ready () {
      first ??= poll().finally(schedule)
      return first
    },
    check (token) {
      if (unavailable && failClosed) return 'revocation feed unavailable (fail-closed)'
      return list.check(token)
    },
    close () {
      closing.abort()
      clearTimeout(timer)
    }
  }
}
