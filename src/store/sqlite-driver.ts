import type BetterSqlite3 from 'better-sqlite3'

export type SqliteConstructor = typeof BetterSqlite3

/**
 * better-sqlite3 12 is built on node::ObjectWrap, which Node 24 changed: its statements abort the process when
 * they are garbage-collected during teardown (`Assertion failed: (env) != nullptr`, WiseLibs/better-sqlite3#1515).
 * Version 13 is built on Node-API and fixed, but requires Node 22. So both are dependencies: 13 as the optional
 * `better-sqlite3-napi` (npm skips it on Node 20, whose engine it does not accept), 12 for Node 20.
 */
async function load (): Promise<SqliteConstructor> {
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    try {
      // @ts-expect-error: an npm alias of better-sqlite3@13; its types are those of better-sqlite3.
      return (await import('better-sqlite3-napi')).default as SqliteConstructor
    } catch {
      // Not installed (an install that skipped optional dependencies): fall back to version 12.
    }
  }
  return (await import('better-sqlite3')).default
}

export const Sqlite: SqliteConstructor = await load()
export type SqliteDatabase = BetterSqlite3.Database
