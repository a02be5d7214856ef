import t from 'tap'
import { COMMIT_SLACK_MS, readRevocationFeed } from '../../../src/services/revocations/feed.js'
import type { Revocation, RevocationStore } from '../../../src/store/types.js'

/**
 * A revocation table where sequence numbers are taken at insert time but rows become visible only when
 * committed, in any order: what PostgreSQL does with concurrent inserts on a bigserial column.
 */
function outOfOrderStore () {
  const rows: Array<Revocation & { committed: boolean }> = []
  let seq = 0
  const store: RevocationStore = {
    async add () { throw new Error('use begin()') },
    async since (after, now, limit) {
      return rows.filter((row) => row.committed && row.seq > after && row.expiresAt > now).sort((a, b) => a.seq - b.seq).slice(0, limit)
        .map(({ committed: _committed, ...row }) => row)
    },
    async purge () { return 0 }
  }
  return {
    store,
    /** Takes a seq now; the row becomes visible when `commit` is called. */
    begin (subject: string, createdAt: number) {
      const row = { seq: ++seq, kind: 'session' as const, subject, notBefore: null, createdAt, expiresAt: createdAt + 900_000, committed: false }
      rows.push(row)
      return { commit: () => { row.committed = true } }
    }
  }
}

/** A poller that follows the cursor and remembers every session id it was ever told about. */
async function poll (store: RevocationStore, state: { cursor: number, seen: Set<string> }, now: number) {
  const page = await readRevocationFeed(store, { after: state.cursor, now })
  for (const entry of page.entries) state.seen.add(entry.subject)
  state.cursor = page.cursor
  return page
}

t.test('an entry that commits after a higher seq is already visible still reaches the poller', async (t) => {
  const { store, begin } = outOfOrderStore()
  let now = 1_700_000_000_000
  const state = { cursor: 0, seen: new Set<string>() }

  const slow = begin('session-a', now) // seq 1, commit delayed
  begin('session-b', now).commit() // seq 2, visible at once
  await poll(store, state, now)
  t.same([...state.seen], ['session-b'])

  // Long after B, while A is still in flight, the poller keeps polling: its cursor must stay below A.
  now += 5_000
  await poll(store, state, now)
  t.ok(state.cursor < 1, 'cursor does not pass an unsettled seq')

  slow.commit()
  now += 5_000
  await poll(store, state, now)
  t.ok(state.seen.has('session-a'), 'the late commit is delivered')
})

t.test('the cursor advances once entries are older than the commit horizon, and old entries are not sent again', async (t) => {
  const { store, begin } = outOfOrderStore()
  let now = 1_700_000_000_000
  const state = { cursor: 0, seen: new Set<string>() }
  begin('session-a', now).commit()
  begin('session-b', now).commit()

  const first = await poll(store, state, now)
  t.equal(first.entries.length, 2)
  t.equal(first.cursor, 0, 'young entries are sent again next time')

  now += 2 * COMMIT_SLACK_MS
  const second = await poll(store, state, now)
  t.equal(second.cursor, 2, 'settled entries move the cursor')
  const third = await poll(store, state, now + 1000)
  t.same(third.entries, [], 'nothing is repeated after the cursor moved')
})

t.test('a full page reports has_more and entries whose tokens have expired are left out', async (t) => {
  const { store, begin } = outOfOrderStore()
  const now = 1_700_000_000_000
  begin('expired', now - 3_600_000).commit()
  for (let i = 0; i < 3; i++) begin(`live-${i}`, now - 2 * COMMIT_SLACK_MS).commit()

  const page = await readRevocationFeed(store, { after: 0, now, limit: 2 })
  t.same(page.entries.map((e) => e.subject), ['live-0', 'live-1'])
  t.equal(page.hasMore, true)
  const rest = await readRevocationFeed(store, { after: page.cursor, now, limit: 2 })
  t.same(rest.entries.map((e) => e.subject), ['live-2'])
  t.equal(rest.hasMore, false)
})
