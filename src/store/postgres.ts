import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { createKyselyStore } from './kysely-store.js'
import type { Database } from './schema.js'
import type { Store } from './types.js'

// Times are bigint milliseconds; they fit a double exactly until the year 287396, so parse int8 as a number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))

export interface PostgresOptions {
  url: string
  /** Connections per process. */
  max?: number
  /** How long a query may wait for a connection before it fails (and the request answers 503). */
  connectionTimeoutMillis?: number
}

export function createPostgresStore ({ url, max = 10, connectionTimeoutMillis = 3000 }: PostgresOptions): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis,
    // A statement that hangs (a dead server behind a live socket) fails instead of holding a request forever.
    query_timeout: 5000,
    idleTimeoutMillis: 30000
  })
  // An idle client losing its server emits 'error' on the pool; without a listener that would crash the process.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return createKyselyStore(db, {
    kind: 'postgres',
    isUniqueViolation: (error) => (error as { code?: string }).code === '23505',
    // Kysely's destroy() ends the pool.
    close: async () => {}
  })
}
