import pg from 'pg'
import t from 'tap'
import { createPostgresStore } from '../../src/store/postgres.js'
import { createTestDatabase, postgresTestOptions } from '../helpers/postgres.js'

t.test('ten replicas migrating one fresh database at once run each migration exactly once', await postgresTestOptions(t), async (t) => {
  const url = await createTestDatabase(t)
  // Ten pools, as ten replicas starting together have: each migrate() runs on its own connections.
  const stores = Array.from({ length: 10 }, () => createPostgresStore({ url, max: 2 }))
  t.teardown(async () => { await Promise.all(stores.map((store) => store.close())) })

  const outcomes = await Promise.allSettled(stores.map((store) => store.migrate()))
  t.same(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)), [],
    'no replica failed (a second run of any migration would fail on "already exists")')

  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(async () => { await client.end() })
  const { rows } = await client.query<{ name: string, runs: string }>('select name, count(*) as runs from kysely_migration group by name order by name')
  t.same(rows.map((row) => [row.name, Number(row.runs)]), [
    ['0001_users', 1], ['0002_refresh_tokens', 1], ['0003_revocations', 1], ['0004_username_key_unbounded', 1]
  ])

  // And the schema they built is usable from every replica.
  const store = stores[7]!
  await store.users.create({ id: crypto.randomUUID(), username: 'alice', passwordHash: 'h', roles: ['user'], now: Date.now() })
  t.equal((await stores[2]!.users.findByUsername('ALICE'))?.username, 'alice')
})

t.test('a replica waiting for another replica\'s long migration waits, past the query timeout', await postgresTestOptions(t), async (t) => {
  const url = await createTestDatabase(t)
  // Kysely's migration lock (PostgresAdapter's advisory lock id), held as a replica mid-migration holds it.
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  t.teardown(() => holder.end())
  await holder.query('select pg_advisory_lock(3853314791062309107)')
  const store = createPostgresStore({ url })
  t.teardown(() => store.close())
  let settled = false
  const migrating = store.migrate().finally(() => { settled = true })
  // Well past the pool's 5 s query timeout (real time: the timeout is in pg, no clock to move), which must
  // not apply to waiting for the lock.
  await new Promise((resolve) => setTimeout(resolve, 9000))
  t.equal(settled, false, 'still waiting for the lock, not failed')
  await holder.query('select pg_advisory_unlock(3853314791062309107)')
  await migrating
  t.same(await store.users.list(), [], 'then it migrated')
})
