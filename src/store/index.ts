import type { StoreUrl } from '../config.js'
import type { Store } from './types.js'

/**
 * Only the driver the configuration names is loaded: pg and its dependencies cost the embedded SQLite default
 * 3.3 MiB of idle RSS for nothing, and better-sqlite3 is of no use to a PostgreSQL deployment.
 */
export async function createStore (database: StoreUrl): Promise<Store> {
  if (database.kind === 'sqlite') return (await import('./sqlite.js')).createSqliteStore(database.file)
  return (await import('./postgres.js')).createPostgresStore({ url: database.url })
}

export type * from './types.js'
