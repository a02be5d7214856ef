import { join } from 'node:path'
import { Kysely, SqliteDialect, sql } from 'kysely'
import t, { type Test } from 'tap'
import { createGroupCommit } from '../../src/store/group-commit.js'
import type { Database } from '../../src/store/schema.js'
import { Sqlite } from '../../src/store/sqlite-driver.js'

/** A scratch database of its own (one table, and one deferred foreign key to make a COMMIT fail on demand). */
async function open (t: Test) {
  const file = join(t.testdir(), 'batch.db')
  const statements: string[] = []
  const db = new Kysely<any>({
    dialect: new SqliteDialect({ database: new Sqlite(file) }),
    log: (event) => { statements.push(event.query.sql) }
  })
  t.teardown(async () => await db.destroy())
  await sql`pragma foreign_keys = on`.execute(db)
  await sql`create table parent (id integer primary key)`.execute(db)
  await sql`create table item (name text primary key, parent integer references parent (id) deferrable initially deferred)`.execute(db)
  // What another process sees: only what has been committed.
  const reader = new Sqlite(file, { readonly: true })
  t.teardown(() => reader.close())
  const committed = () => (reader.prepare('select name from item order by name').all() as Array<{ name: string }>).map((row) => row.name)
  statements.length = 0
  return { groupCommit: createGroupCommit(db as Kysely<Database>), statements, committed }
}

const insert = (name: string, parent: number | null = null) => async (trx: Kysely<any>) => {
  await trx.insertInto('item').values({ name, parent }).execute()
  return name
}

t.test('work of one turn shares one transaction, and each caller is answered only once it is committed', async (t) => {
  const { groupCommit, statements, committed } = await open(t)
  const answered = await Promise.all(['a', 'b', 'c'].map(async (name) => {
    const value = await groupCommit(insert(name))
    return { value, visible: committed().includes(name) }
  }))
  t.same(answered, [{ value: 'a', visible: true }, { value: 'b', visible: true }, { value: 'c', visible: true }])
  t.equal(statements.filter((s) => s === 'begin').length, 1, 'one transaction')
  t.equal(statements.filter((s) => s === 'commit').length, 1, 'one commit')
})

t.test('work that fails is rolled back alone; the rest of its batch commits', async (t) => {
  const { groupCommit, committed } = await open(t)
  const failing = async (trx: Kysely<any>) => {
    await insert('b')(trx)
    throw new Error('b failed after writing')
  }
  const results = await Promise.allSettled([groupCommit(insert('a')), groupCommit(failing), groupCommit(insert('c'))])
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
  t.match((results[1] as PromiseRejectedResult).reason, { message: 'b failed after writing' })
  t.same(committed(), ['a', 'c'], "the failed work's own write is gone")
})

t.test('a COMMIT that fails fails every caller of the batch, and nothing of it is kept', async (t) => {
  const { groupCommit, committed } = await open(t)
  // The missing parent is only checked at COMMIT (deferred foreign key): every statement succeeds, the COMMIT does not.
  const results = await Promise.allSettled([groupCommit(insert('a')), groupCommit(insert('orphan', 42)), groupCommit(insert('c'))])
  t.same(results.map((r) => r.status), ['rejected', 'rejected', 'rejected'])
  t.same(committed(), [])
  t.equal(await groupCommit(insert('d')), 'd', 'the next batch commits as usual')
  t.same(committed(), ['d'])
})
