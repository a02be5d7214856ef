import { sql, type Kysely, type QueryCreator, type Selectable } from 'kysely'
import type { GroupCommit } from './group-commit.js'
import { migrateToLatest } from './migrate.js'
import type { Database } from './schema.js'
import {
  UsernameTakenError,
  type Family, type RefreshTokenRecord, type Revocation, type Store, type UserRecord
} from './types.js'

/** The unique key of a username: "Alice", "ALICE" and "ａｌｉｃｅ" (full-width) are one account. */
export function usernameKey (username: string): string {
  return username.normalize('NFKC').toLowerCase()
}

interface DialectBase {
  isUniqueViolation (error: unknown): boolean
  close (): Promise<void>
}

/** What differs between the databases: error codes, closing, and how a rotation commits. */
export type Dialect = DialectBase & ({ kind: 'postgres' } | { kind: 'sqlite', groupCommit: GroupCommit })

function toUser (row: Selectable<Database['users']>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    roles: JSON.parse(row.roles) as string[],
    passwordHash: row.password_hash,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
    tokensNotBefore: row.tokens_not_before === null ? null : Number(row.tokens_not_before)
  }
}

function toFamily (row: Selectable<Database['refresh_families']>): Family {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    revokeReason: row.revoke_reason
  }
}

function toToken (row: Selectable<Database['refresh_tokens']>): RefreshTokenRecord {
  return {
    hash: row.token_hash,
    familyId: row.family_id,
    createdAt: Number(row.created_at),
    spentAt: row.spent_at === null ? null : Number(row.spent_at),
    rotationNonce: row.rotation_nonce,
    successorHash: row.successor_hash
  }
}

/** A refresh token joined to its family, whose columns carry an `f_` prefix (both tables have `id` and `created_at`). */
function selectTokenAndFamily (db: Kysely<Database>) {
  return db.selectFrom('refresh_tokens')
    .innerJoin('refresh_families', 'refresh_families.id', 'refresh_tokens.family_id')
    .selectAll('refresh_tokens')
    .select(['refresh_families.id as f_id', 'refresh_families.user_id as f_user_id', 'refresh_families.created_at as f_created_at',
      'refresh_families.expires_at as f_expires_at', 'refresh_families.revoked_at as f_revoked_at', 'refresh_families.revoke_reason as f_revoke_reason'])
}

type TokenAndFamilyRow = NonNullable<Awaited<ReturnType<ReturnType<typeof selectTokenAndFamily>['executeTakeFirst']>>>

function toTokenAndFamily (row: TokenAndFamilyRow): { token: RefreshTokenRecord, family: Family } {
  return {
    token: toToken(row),
    family: toFamily({
      id: row.f_id,
      user_id: row.f_user_id,
      created_at: row.f_created_at,
      expires_at: row.f_expires_at,
      revoked_at: row.f_revoked_at,
      revoke_reason: row.f_revoke_reason
    })
  }
}

/** One query code path for SQLite and PostgreSQL; only dialect quirks (error codes, closing, how a rotation commits) differ. */
export function createKyselyStore (db: Kysely<Database>, dialect: Dialect): Store {
  return {
    kind: dialect.kind,

    async migrate () {
      await migrateToLatest(db, dialect.kind)
    },

    async ping () {
      await sql`select 1`.execute(db)
    },

    async close () {
      await db.destroy()
      await dialect.close()
    },

    users: {
      async create ({ id, username, passwordHash, roles, now }) {
        try {
          await db.insertInto('users').values({
            id,
            username,
            username_key: usernameKey(username),
            password_hash: passwordHash,
            roles: JSON.stringify(roles),
            created_at: now,
            updated_at: now,
            disabled_at: null,
            tokens_not_before: null
          }).execute()
        } catch (error) {
          if (dialect.isUniqueViolation(error)) throw new UsernameTakenError()
          throw error
        }
        return { id, username, roles }
      },
      async findByUsername (username) {
        const row = await db.selectFrom('users').selectAll().where('username_key', '=', usernameKey(username)).executeTakeFirst()
        return row && toUser(row)
      },
      async findById (id) {
        const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
        return row && toUser(row)
      },
      async list () {
        const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('username_key').execute()
        return rows.map(toUser)
      },
      async setPasswordHash (id, passwordHash, now) {
        await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute()
      },
      async setRoles (id, roles, now) {
        await db.updateTable('users').set({ roles: JSON.stringify(roles), updated_at: now }).where('id', '=', id).execute()
      },
      async setDisabled (id, disabled, now) {
        await db.updateTable('users').set({ disabled_at: disabled ? now : null, updated_at: now }).where('id', '=', id).execute()
      },
      async setTokensNotBefore (id, notBefore, now) {
        await db.updateTable('users').set({ tokens_not_before: notBefore, updated_at: now }).where('id', '=', id).execute()
      }
    },

    sessions: {
      async createFamily (family, firstTokenHash) {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('refresh_families').values({
            id: family.id,
            user_id: family.userId,
            created_at: family.createdAt,
            expires_at: family.expiresAt,
            revoked_at: null,
            revoke_reason: null
          }).execute()
          await trx.insertInto('refresh_tokens').values({
            token_hash: firstTokenHash,
            family_id: family.id,
            created_at: family.createdAt,
            spent_at: null,
            rotation_nonce: null,
            successor_hash: null
          }).execute()
        })
      },
      async findToken (hash) {
        const row = await selectTokenAndFamily(db).where('refresh_tokens.token_hash', '=', hash).executeTakeFirst()
        return row && toTokenAndFamily(row)
      },
      async findForRefresh (hash) {
        // Left join: a family whose user is gone must still be found, so that the refresh can end it.
        const row = await selectTokenAndFamily(db)
          .leftJoin('users', 'users.id', 'refresh_families.user_id')
          .select(['users.id as u_id', 'users.username as u_username', 'users.username_key as u_username_key',
            'users.password_hash as u_password_hash', 'users.roles as u_roles', 'users.created_at as u_created_at',
            'users.updated_at as u_updated_at', 'users.disabled_at as u_disabled_at', 'users.tokens_not_before as u_tokens_not_before'])
          .where('refresh_tokens.token_hash', '=', hash)
          .executeTakeFirst()
        if (!row) return undefined
        const user = row.u_id === null
          ? undefined
          : toUser({
            id: row.u_id,
            username: row.u_username,
            username_key: row.u_username_key,
            password_hash: row.u_password_hash,
            roles: row.u_roles,
            created_at: row.u_created_at,
            updated_at: row.u_updated_at,
            disabled_at: row.u_disabled_at,
            tokens_not_before: row.u_tokens_not_before
          } as Selectable<Database['users']>)
        return { ...toTokenAndFamily(row), user }
      },
      async rotate (hash, successor, now) {
        // The conditional update is the lock: of N concurrent rotations, exactly one sees a row to change.
        // RETURNING hands the successor's row its family and time, so no read follows the update.
        const spend = (qc: QueryCreator<Database>) => qc.updateTable('refresh_tokens')
          .set({ spent_at: now, rotation_nonce: successor.nonce, successor_hash: successor.hash })
          .where('token_hash', '=', hash)
          .where('spent_at', 'is', null)
          // A logout that committed after this refresh read the family must still win: spend only in a live family.
          // A correlated EXISTS is one primary-key lookup; `family_id in (select id … where live)` made SQLite list
          // every live family of every user on each rotation (cost growing with the number of sessions).
          .where(({ exists, selectFrom }) => exists(selectFrom('refresh_families').select('refresh_families.id')
            .whereRef('refresh_families.id', '=', 'refresh_tokens.family_id')
            .where('refresh_families.revoked_at', 'is', null)
            .where('refresh_families.expires_at', '>', now)))
          .returning(['family_id', 'spent_at', 'successor_hash'])
        if (dialect.kind === 'postgres') {
          // One statement (a data-modifying CTE) spends the token and inserts its successor atomically: one round
          // trip instead of BEGIN, UPDATE, INSERT, COMMIT. SQLite has no data-modifying CTEs, hence the branch.
          const result = await db.with('spent', spend)
            .insertInto('refresh_tokens')
            .columns(['token_hash', 'family_id', 'created_at'])
            .expression((eb) => eb.selectFrom('spent').select(['spent.successor_hash', 'spent.family_id', 'spent.spent_at']))
            .executeTakeFirst()
          return Number(result.numInsertedOrUpdatedRows) === 1
        }
        // SQLite runs in this process: the statements of a transaction cost no round trips, its fsync does.
        return await dialect.groupCommit(async (trx) => {
          const spent = await spend(trx).executeTakeFirst()
          if (!spent) return false
          await trx.insertInto('refresh_tokens').values({
            token_hash: successor.hash,
            family_id: spent.family_id,
            created_at: now,
            spent_at: null,
            rotation_nonce: null,
            successor_hash: null
          }).execute()
          return true
        })
      },
      async revokeFamily (familyId, reason, now) {
        const result = await db.updateTable('refresh_families')
          .set({ revoked_at: now, revoke_reason: reason })
          .where('id', '=', familyId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst()
        return Number(result.numUpdatedRows) === 1
      },
      async revokeUserFamilies (userId, reason, now) {
        const rows = await db.updateTable('refresh_families')
          .set({ revoked_at: now, revoke_reason: reason })
          .where('user_id', '=', userId)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .returning('id')
          .execute()
        return rows.map((row) => row.id)
      },
      async purgeExpired (before) {
        return await db.transaction().execute(async (trx) => {
          const expired = trx.selectFrom('refresh_families').select('id').where('expires_at', '<', before)
          await trx.deleteFrom('refresh_tokens').where('family_id', 'in', expired).execute()
          const result = await trx.deleteFrom('refresh_families').where('expires_at', '<', before).executeTakeFirst()
          return Number(result.numDeletedRows)
        })
      }
    },

    revocations: {
      async add (entry) {
        await db.insertInto('revocations').values({
          kind: entry.kind,
          subject: entry.subject,
          not_before: entry.notBefore,
          created_at: entry.createdAt,
          expires_at: entry.expiresAt
        }).execute()
      },
      async since (after, now, limit) {
        const rows = await db.selectFrom('revocations').selectAll()
          .where('seq', '>', after)
          .where('expires_at', '>', now)
          .orderBy('seq')
          .limit(limit)
          .execute()
        return rows.map((row): Revocation => ({
          seq: Number(row.seq),
          kind: row.kind,
          subject: row.subject,
          notBefore: row.not_before === null ? null : Number(row.not_before),
          createdAt: Number(row.created_at),
          expiresAt: Number(row.expires_at)
        }))
      },
      async purge (now) {
        const result = await db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst()
        return Number(result.numDeletedRows)
      }
    }
  }
}
