import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely'
import type { SqliteDatabase } from './sqlite-driver.js'

/**
 * Kysely's SqliteDriver calls prepare() for every query it runs, and SQLite compiling a statement costs more than
 * running it (a refresh's five statements: ~80 µs of ~180). Kysely compiles a query builder to the same SQL text
 * every time, so statements are kept by their text and reused. Bounded: SQL whose text depends on the data (an
 * `in (?, ?, …)` list) would otherwise grow the map forever; the least recently used statement goes first.
 * Reuse is safe because the driver runs one statement at a time to completion (all() or run()); Tessera never
 * streams (iterate()), where two interleaved cursors on one statement would fail.
 */
export function cachingStatements (database: SqliteDatabase, max = 256): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>()
  return {
    close: () => { database.close() },
    prepare (sql) {
      let statement = statements.get(sql)
      if (statement) {
        // Map keeps insertion order: moving the entry to the end makes the first one the least recently used.
        statements.delete(sql)
      } else {
        statement = database.prepare(sql)
        if (statements.size >= max) statements.delete(statements.keys().next().value as string)
      }
      statements.set(sql, statement)
      return statement
    }
  }
}
