import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { hashRefreshToken, newRefreshToken } from '../../src/services/sessions/refresh-token.js'
import { usernameKey } from '../../src/store/kysely-store.js'
import { createPostgresStore } from '../../src/store/postgres.js'
import { seededUsername } from './seed.js'

/**
 * A throw-away PostgreSQL database for one run: created empty, migrated by Tessera's own migrations, seeded in
 * bulk (unnest arrays, one transaction), dropped at the end. Returns undefined when no server answers.
 */
export async function createPostgresDb (adminUrl: string): Promise<{ url: string, drop: () => Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 })
  // A connection the server drops while idle (a restart, another suite's cleanup) must not crash the bench.
  admin.on('error', () => {})
  try {
    await admin.connect()
  } catch {
    return undefined
  }
  const name = `tessera_bench_${process.pid}_${Date.now()}`
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop () {
      await admin.query(`drop database if exists ${name} with (force)`)
      await admin.end()
    }
  }
}

export async function preparePostgres (url: string, { users, passwordHash, refreshTokens }: { users: number, passwordHash: string, refreshTokens: number }): Promise<string[]> {
  const store = createPostgresStore({ url })
  try {
    await store.migrate()
  } finally {
    await store.close()
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const now = Date.now()
    const ids = Array.from({ length: users }, () => randomUUID())
    const names = ids.map((_, i) => seededUsername(i))
    const tokens = Array.from({ length: refreshTokens }, () => newRefreshToken())
    const families = tokens.map(() => randomUUID())
    await client.query('begin')
    await client.query(`insert into users (id, username, username_key, password_hash, roles, created_at, updated_at)
      select id, name, key, $4, '["user"]', $5, $5 from unnest($1::text[], $2::text[], $3::text[]) as t(id, name, key)`,
    [ids, names, names.map(usernameKey), passwordHash, now])
    await client.query(`insert into refresh_families (id, user_id, created_at, expires_at)
      select id, user_id, $3, $4 from unnest($1::text[], $2::text[]) as t(id, user_id)`,
    [families, families.map((_, i) => ids[i % ids.length]), now, now + 86_400_000])
    await client.query(`insert into refresh_tokens (token_hash, family_id, created_at)
      select hash, family_id, $3 from unnest($1::text[], $2::text[]) as t(hash, family_id)`,
    [tokens.map(hashRefreshToken), families, now])
    await client.query('commit')
    return tokens
  } finally {
    await client.end()
  }
}
