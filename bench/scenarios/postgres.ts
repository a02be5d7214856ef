import type { Server } from '../lib/processes.js'
import type { Profile } from '../lib/profile.js'
import { createPostgresDb, preparePostgres } from '../lib/seed-postgres.js'
import { startTessera } from '../lib/tessera.js'
import { runLatency } from './latency.js'
import { runRefresh } from './login.js'

/**
 * Diagnostic, full runs only, when a PostgreSQL server answers at BENCH_POSTGRES_URL (default: the local one):
 * refresh throughput and /auth/me latency during a login storm with DATABASE_URL=postgres. With SQLite every
 * commit (one per login, one per refresh) is an fsync made synchronously on the event loop (better-sqlite3,
 * synchronous=FULL); with PostgreSQL the commit waits in another process and the event loop keeps serving.
 */
export async function runPostgres ({ env, users, passwordHash, tokens, hashConcurrency, profile, logDir }: {
  env: Record<string, string>
  users: number
  passwordHash: string
  tokens: string[]
  hashConcurrency: number
  profile: Profile
  logDir: string
}) {
  const adminUrl = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const database = await createPostgresDb(adminUrl)
  if (!database) return undefined
  let server: Server | undefined
  try {
    const refreshTokens = await preparePostgres(database.url, { users, passwordHash, refreshTokens: profile.connections * 20 })
    server = await startTessera({ name: 'tessera-postgres', env, db: { url: database.url, users, refreshTokens }, logDir })
    const refresh = await runRefresh({ tessera: server, tokens: refreshTokens, profile })
    const latency = await runLatency({ tessera: server, tokens, users, hashConcurrency, profile })
    return { refresh, latency }
  } finally {
    await server?.stop()
    await database.drop()
  }
}
