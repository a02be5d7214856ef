import { sql, type Kysely, type Transaction } from 'kysely'
import type { Database } from './schema.js'

/**
 * Runs `work` in a transaction that may be shared with other work; resolves once that transaction committed.
 * `work` must use only `trx` (the one connection is held for the batch: any other query would wait for it forever).
 */
export type GroupCommit = <T>(work: (trx: Transaction<Database>) => Promise<T>) => Promise<T>

interface Pending {
  work: (trx: Transaction<Database>) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Group commit for the embedded store. With synchronous=FULL every COMMIT waits for an fsync, and better-sqlite3
 * waits on the event loop: one commit per refresh made the disk, not the CPU, the bound (~45% of the event loop
 * blocked in COMMIT at ~1,100 refreshes/s). Work that arrives in the same turn of the event loop (the requests
 * read from the sockets together) is queued and run after it in one transaction, which one fsync makes durable.
 *
 * - Each piece of work runs in its own SAVEPOINT: if it throws, only its own changes are rolled back and only its
 *   caller sees the error; the others still commit.
 * - Nobody is answered before the shared COMMIT has returned: nothing acknowledged can be lost. If the COMMIT
 *   fails, the whole batch is rolled back and every caller gets the error (none was answered yet, so none is lost).
 * - The trade-off: a caller waits for the whole batch (its own statements take microseconds, the fsync dominates),
 *   and one failing COMMIT fails the batch instead of one request. At low load a batch is one piece of work and
 *   the wait is one setImmediate.
 * - Isolation is unchanged: Kysely holds the one SQLite connection for the whole transaction, so no other query
 *   of this process runs (and reads uncommitted rows) until the COMMIT is done; other processes see the batch
 *   only once it has committed, as they saw single transactions before.
 */
export function createGroupCommit (db: Kysely<Database>): GroupCommit {
  let queue: Pending[] = []

  async function flush () {
    const batch = queue
    queue = []
    const outcomes: Array<{ value: unknown } | { error: unknown }> = []
    try {
      await db.transaction().execute(async (trx) => {
        for (const { work } of batch) {
          await sql`savepoint batched`.execute(trx)
          try {
            outcomes.push({ value: await work(trx) })
          } catch (error) {
            await sql`rollback to batched`.execute(trx)
            outcomes.push({ error })
          }
          await sql`release batched`.execute(trx)
        }
      })
    } catch (error) {
      for (const { reject } of batch) reject(error)
      return
    }
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i] as { value: unknown } | { error: unknown }
      if ('error' in outcome) reject(outcome.error)
      else resolve(outcome.value)
    })
  }

  return async <T>(work: (trx: Transaction<Database>) => Promise<T>) => await new Promise<T>((resolve, reject) => {
    queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
    // The first piece of work of a batch schedules its run; the rest of this turn's work joins it.
    if (queue.length === 1) setImmediate(() => { void flush() })
  })
}
