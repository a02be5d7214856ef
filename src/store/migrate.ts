import { Migrator, type Kysely } from 'kysely'
import { migrationProvider } from './migrations.js'

/**
 * Applies every pending migration. On PostgreSQL the Migrator holds a session-level advisory lock while it
 * runs, so replicas that start together apply each migration once (test/store/postgres-migrate.test.ts);
 * SQLite serialises writers itself.
 */
export async function migrateToLatest (db: Kysely<any>, kind: 'sqlite' | 'postgres'): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationProvider(kind) }).migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new Error(`migration ${failed ?? ''} failed: ${(error as Error).message}`, { cause: error })
  }
}
