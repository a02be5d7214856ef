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
