import { randomUUID } from 'node:crypto'
import { Sqlite } from '../../src/store/sqlite-driver.js'
import { hashRefreshToken, newRefreshToken } from '../../src/services/sessions/refresh-token.js'
import { usernameKey } from '../../src/store/kysely-store.js'
import { createSqliteStore } from '../../src/store/sqlite.js'

/** Seeded usernames are predictable, so a load generator can pick any of them without a list in memory. */
export function seededUsername (i: number): string {
  return `user${String(i).padStart(8, '0')}`
}

/** The schema exactly as Tessera creates it: its own migrations, run through its own store. */
export async function migrate (file: string): Promise<void> {
  const store = createSqliteStore(file)
  try {
    await store.migrate()
  } finally {
    await store.close()
  }
}

/**
 * Inserts `count` users straight into SQLite in one transaction, all with one precomputed argon2id hash (hashing a
 * million passwords would take most of a day; the login cost does not depend on which hash it checks).
 * Returns the ids of the first `keepIds` users.
 */
export function seedUsers (file: string, { count, passwordHash, keepIds = 0 }: { count: number, passwordHash: string, keepIds?: number }): string[] {
  const db = new Sqlite(file)
  // Durability does not matter for a fixture; Tessera reopens it with its own pragmas.
  db.pragma('synchronous = OFF')
  // No journal while seeding (each row would be written twice through the WAL); back to WAL for Tessera after.
  db.pragma('journal_mode = OFF')
  // Random v4 ids (as Tessera makes them) land all over the primary-key b-tree: keep it in memory while seeding.
  db.pragma('cache_size = -262144')
  const insert = db.prepare(`insert into users (id, username, username_key, password_hash, roles, created_at, updated_at, disabled_at, tokens_not_before)
    values (?, ?, ?, ?, '["user"]', ?, ?, null, null)`)
  const ids: string[] = []
  const now = Date.now()
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const id = randomUUID()
      const username = seededUsername(i)
      insert.run(id, username, usernameKey(username), passwordHash, now, now)
      if (i < keepIds) ids.push(id)
    }
  })()
  db.pragma('journal_mode = WAL')
  db.close()
  return ids
}

/** Refresh-token families, one unspent token each, as sessions.start() would store them. Returns the raw tokens. */
export function seedRefreshTokens (file: string, { userIds, count, ttlMs }: { userIds: string[], count: number, ttlMs: number }): string[] {
  const db = new Sqlite(file)
  db.pragma('synchronous = OFF')
  const family = db.prepare('insert into refresh_families (id, user_id, created_at, expires_at, revoked_at, revoke_reason) values (?, ?, ?, ?, null, null)')
  const token = db.prepare(`insert into refresh_tokens (token_hash, family_id, created_at, spent_at, rotation_nonce, successor_hash)
    values (?, ?, ?, null, null, null)`)
  const tokens: string[] = []
  const now = Date.now()
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const familyId = randomUUID()
      const raw = newRefreshToken()
      family.run(familyId, userIds[i % userIds.length], now, now + ttlMs)
      token.run(hashRefreshToken(raw), familyId, now)
      tokens.push(raw)
    }
  })()
  db.close()
  return tokens
}
