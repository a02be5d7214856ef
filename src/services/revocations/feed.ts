import type { Revocation, RevocationStore } from '../../store/types.js'

/** Entries per answer at most: bounds the response and the query. A poller with `hasMore` asks again. */
export const FEED_LIMIT = 5000

/**
 * How long a revocation insert may take to commit after its `createdAt` was taken (including clock
 * differences between replicas). The cursor never moves past an entry younger than twice this.
 */
export const COMMIT_SLACK_MS = 30_000

export interface FeedPage {
  /** Live entries with seq > the cursor asked for, oldest first. */
  entries: Revocation[]
  /** Pass back as `after` next time. */
  cursor: number
  hasMore: boolean
}

/**
 * Why the cursor is not simply "the highest seq returned":
 *
 * On PostgreSQL a sequence value is taken when the insert runs, not when it commits, so entries become
 * visible out of order: A takes seq 10, B takes 11, B commits, a poller reads and sees 11 but not 10, then
 * A commits. A cursor of 11 would skip A forever, and that logout would never reach that verifier.
 *
 * So the cursor only advances past entries that are settled: B (visible, seq 11) settles once
 * `B.createdAt <= now - 2 * COMMIT_SLACK_MS`. Proof, assuming every insert commits within COMMIT_SLACK_MS of
 * its own `createdAt`: A's seq is lower, so A took it before B took 11, which was before B committed, at most
 * `B.createdAt + slack`. A's `createdAt` was taken before its insert, so `A.createdAt < B.createdAt + slack
 * <= now - slack`, hence A committed before `now` and is in this very answer (rows come in seq order, and
 * everything from the old cursor up is returned). Entries younger than the horizon are sent again by the next
 * poll: verifiers merge idempotently, so an overlap costs a few bytes and a gap is impossible.
 *
 * SQLite has one writer and commits in seq order; the same rule is merely conservative there.
 */
export function settledCursor (entries: readonly Revocation[], after: number, now: number): number {
  const horizon = now - 2 * COMMIT_SLACK_MS
  let cursor = after
  for (const entry of entries) if (entry.createdAt <= horizon && entry.seq > cursor) cursor = entry.seq
  return cursor
}

/**
 * One page of the revocation feed: entries after `after` whose tokens can still be accepted somewhere
 * (an entry's expiry already includes the clock skew verifiers allow beyond `exp`: see endAllSessions).
 */
export async function readRevocationFeed (store: RevocationStore, { after, now, limit = FEED_LIMIT }: {
  after: number
  now: number
  limit?: number
}): Promise<FeedPage> {
  const rows = await store.since(after, now, limit + 1)
  const hasMore = rows.length > limit
  const entries = hasMore ? rows.slice(0, limit) : rows
  return { entries, cursor: settledCursor(entries, after, now), hasMore }
}
