import { type Kysely, type Migration, type MigrationProvider } from 'kysely'

type Kind = 'sqlite' | 'postgres'

/**
 * Migrations live in code (not files found at run time) so the built service and the tests run exactly
 * the same list. Append only: a migration that has run anywhere is never edited.
 */
function migrations (kind: Kind): Record<string, Migration> {
  return {
    '0001_users': {
      async up (db: Kysely<any>) {
        await db.schema.createTable('users')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('username', 'varchar(64)', (c) => c.notNull())
          .addColumn('username_key', 'varchar(64)', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('roles', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('disabled_at', 'bigint')
          .addColumn('tokens_not_before', 'bigint')
          .execute()
      }
    },
    '0002_refresh_tokens': {
      async up (db: Kysely<any>) {
        await db.schema.createTable('refresh_families')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('user_id', 'varchar(36)', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('revoked_at', 'bigint')
          .addColumn('revoke_reason', 'varchar(32)')
          .execute()
        await db.schema.createIndex('refresh_families_user_id').on('refresh_families').column('user_id').execute()
        await db.schema.createIndex('refresh_families_expires_at').on('refresh_families').column('expires_at').execute()
        await db.schema.createTable('refresh_tokens')
          .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('family_id', 'varchar(36)', (c) => c.notNull().references('refresh_families.id').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('spent_at', 'bigint')
          .addColumn('rotation_nonce', 'varchar(64)')
          .addColumn('successor_hash', 'varchar(64)')
          .execute()
        await db.schema.createIndex('refresh_tokens_family_id').on('refresh_tokens').column('family_id').execute()
      }
    },
    '0003_revocations': {
      async up (db: Kysely<any>) {
        await db.schema.createTable('revocations')
          .addColumn('seq', kind === 'postgres' ? 'bigserial' : 'integer', (c) => kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement())
          .addColumn('kind', 'varchar(16)', (c) => c.notNull())
          .addColumn('subject', 'varchar(36)', (c) => c.notNull())
          .addColumn('not_before', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute()
        await db.schema.createIndex('revocations_expires_at').on('revocations').column('expires_at').execute()
      }
    },
    '0004_username_key_unbounded': {
      // NFKC can make the key of a 64-character name far longer (U+FDFA alone becomes 18 characters), and
      // PostgreSQL enforces varchar lengths where SQLite does not: such a registration failed with a 500 there.
      async up (db: Kysely<any>) {
        if (kind !== 'postgres') return
        await db.schema.alterTable('users').alterColumn('username_key', (c) => c.setDataType('text')).execute()
      }
    }
  }
}

export function migrationProvider (kind: Kind): MigrationProvider {
  return { getMigrations: async () => migrations(kind) }
}
