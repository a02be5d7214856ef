import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import argon2 from 'argon2'
import { loadConfig, type Config } from '../../src/config.js'
import { withRuntimeEnv, withRuntimeFlags } from '../../src/runtime.js'
import { startServer, type Server } from './processes.js'
import { migrate, seedRefreshTokens, seedUsers } from './seed.js'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const PASSWORD = 'correct horse battery staple'

/** One environment for every Tessera process of a run; each instance only gets its own database file. */
export function tesseraEnv (keysDir: string, hashConcurrency: number): Record<string, string> {
  return {
    NODE_ENV: 'development',
    KEYS_DIR: keysDir,
    AUTH_ISSUER: 'http://tessera.bench',
    AUTH_AUDIENCE: 'api',
    JWT_ALG: 'ES256',
    // Long enough that tokens minted at the start stay valid for the whole run; verification cost does not depend on it.
    ACCESS_TOKEN_TTL: '3600',
    HASH_CONCURRENCY: String(hashConcurrency),
    LOG_LEVEL: 'info',
    // The benchmark is one client address doing thousands of refreshes and logins on purpose: the per-address
    // abuse limits (docs/throttling.md) would answer 429 and measure the limiter instead of the work.
    REFRESH_MAX_PER_WINDOW: '1000000',
    REGISTER_MAX_PER_WINDOW: '1000000',
    LOGIN_GLOBAL_MAX_PER_SECOND: '100000'
  }
}

/** The configuration Tessera itself derives from that environment (argon2 parameters, defaults). */
export function configOf (env: Record<string, string>): Config {
  return loadConfig(env)
}

export async function argon2HashFor (config: Config, password = PASSWORD): Promise<string> {
  return await argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: config.argon2.memoryKiB,
    timeCost: config.argon2.timeCost,
    parallelism: config.argon2.parallelism
  })
}

export interface TesseraDb {
  /** DATABASE_URL for Tessera: sqlite:<file> or postgres://... */
  url: string
  users: number
  refreshTokens: string[]
}

/** A database with Tessera's own schema, `users` seeded users and `refreshTokens` live refresh tokens. */
export async function prepareDb (dir: string, { users, passwordHash, refreshTokens = 0 }: {
  users: number
  passwordHash: string
  refreshTokens?: number
}): Promise<TesseraDb & { seedMs: number }> {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'auth.db')
  await migrate(file)
  const started = performance.now()
  const ids = seedUsers(file, { count: users, passwordHash, keepIds: Math.min(users, 100) })
  const seedMs = performance.now() - started
  const tokens = refreshTokens > 0 ? seedRefreshTokens(file, { userIds: ids, count: refreshTokens, ttlMs: 86_400_000 }) : []
  return { url: `sqlite:${file}`, users, refreshTokens: tokens, seedMs }
}

/**
 * Starts Tessera the way production does: dist/server.js with the runtime settings of package.json `start` and the
 * Dockerfile (src/runtime.ts), or dist/cluster.js as is (it passes them to its workers).
 */
export async function startTessera ({ name, env, db, logDir, cluster, nodeArgs = [], glibcDefaults = false }: {
  name: string
  env: Record<string, string>
  db: TesseraDb
  logDir: string
  /** Run dist/cluster.js with this many workers instead of one dist/server.js process. */
  cluster?: number
  nodeArgs?: string[]
  /** Leave out the MALLOC_* settings of src/runtime.ts (the malloc diagnostic compares with glibc's defaults). */
  glibcDefaults?: boolean
}): Promise<Server> {
  const runtime = !cluster
  const processEnv = { ...env, DATABASE_URL: db.url, ...(cluster ? { WEB_CONCURRENCY: String(cluster) } : {}) }
  return await startServer({
    name,
    script: join(ROOT, 'dist', cluster ? 'cluster.js' : 'server.js'),
    env: runtime && !glibcDefaults ? withRuntimeEnv(processEnv) : processEnv,
    logFile: join(logDir, `${name}.log`),
    nodeArgs: runtime ? withRuntimeFlags(nodeArgs) : nodeArgs
  })
}
