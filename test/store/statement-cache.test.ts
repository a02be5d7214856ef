import t from 'tap'
import { cachingStatements } from '../../src/store/statement-cache.js'
import { Sqlite } from '../../src/store/sqlite-driver.js'

t.test('one statement per SQL text, reused; the least recently used one goes past the bound', async (t) => {
  const database = new Sqlite(':memory:')
  const prepared: string[] = []
  const prepare = database.prepare.bind(database)
  database.prepare = ((sql: string) => {
    prepared.push(sql)
    return prepare(sql)
  }) as typeof database.prepare
  const cached = cachingStatements(database, 2)
  t.teardown(() => cached.close())

  const one = cached.prepare('select 1 as n')
  t.equal(cached.prepare('select 1 as n'), one, 'the same text gets the same statement')
  t.same(one.all([]), [{ n: 1 }])
  cached.prepare('select 2 as n')
  cached.prepare('select 1 as n')
  cached.prepare('select 3 as n')
  t.same(prepared, ['select 1 as n', 'select 2 as n', 'select 3 as n'], 'prepared once each while cached')
  t.equal(cached.prepare('select 1 as n'), one, 'recently used: kept')
  cached.prepare('select 2 as n')
  t.same(prepared.slice(3), ['select 2 as n'], 'the least recently used one was dropped, and is prepared again')
})
