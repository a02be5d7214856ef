import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { createKyselyStore } from './kysely-store.js'
import { migrateToLatest } from './migrate.js'
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
    idleTimeoutMillis: 30000,
    // TCP keepalive finds idle connections whose peer vanished without a reset (a failover, a dropped NAT entry).
    keepAlive: true
  })
  // An idle client losing its server emits 'error' on the pool; without a listener that would crash the process.
  pool.on('error', () => {})
  // A checked-out client whose server goes away (pg_terminate_backend, a failover) fails its query and then
  // also emits 'error' on itself, where the pool listens only while the client is idle: unheard, that event
  // crashed the process. The failed query already answers the request (503); the pool drops the dead client
  // when it is released.
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  const store = createKyselyStore(db, {
    kind: 'postgres',
    isUniqueViolation: (error) => (error as { code?: string }).code === '23505',
    // Kysely's destroy() ends the pool.
    close: async () => {}
  })
  return { ...store, migrate: () => migrateOnOwnConnection(url, connectionTimeoutMillis) }
}

/**
 * Migrations run on a connection of their own without the request pool's query timeout: a replica that
 * waits for another replica's migration lock, or runs a long migration, must not give up after 5 s.
 */
async function migrateOnOwnConnection (url: string, connectionTimeoutMillis: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis })
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  try {
    await migrateToLatest(db, 'postgres')
  } finally {
    await db.destroy()
  }
}
