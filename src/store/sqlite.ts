import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Kysely, SqliteDialect } from 'kysely'
import { createGroupCommit } from './group-commit.js'
import { createKyselyStore } from './kysely-store.js'
import { Sqlite } from './sqlite-driver.js'
import { cachingStatements } from './statement-cache.js'
import type { Database } from './schema.js'
import type { Store } from './types.js'

/**
 * Embedded store: one file, created with its folder on first start.
 * WAL lets readers run beside the writer; synchronous=FULL fsyncs every commit, so whatever was
 * acknowledged survives a kill -9 and a power cut. busy_timeout makes a second process wait, not fail.
 */
export function createSqliteStore (file: string): Store {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const database = new Sqlite(file)
  database.pragma('journal_mode = WAL')
  database.pragma('synchronous = FULL')
  database.pragma('busy_timeout = 5000')
  database.pragma('foreign_keys = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(database) }) })
  return createKyselyStore(db, {
    kind: 'sqlite',
    groupCommit: createGroupCommit(db),
    isUniqueViolation: (error) => (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ||
      (error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
    // Kysely's destroy() closes the better-sqlite3 handle.
    close: async () => {}
  })
}
