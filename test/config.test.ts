import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.js'

/** Loads `env` expecting failure; returns the ConfigError. */
function problemsOf (env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`)
}

t.test('defaults are those of DESIGN.md', async (t) => {
  const config = loadConfig({})
  const cores = Math.max(1, availableParallelism() - 1)
  const expected: Record<string, unknown> = {
    port: 3000,
    host: '127.0.0.1',
    production: false,
    issuer: 'http://localhost:3000',
    audience: 'api',
    alg: 'ES256',
    accessTokenTtl: 900,
    refreshTokenTtl: 2592000,
    keysDir: resolve('./keys'),
    database: { kind: 'sqlite', file: resolve('./data/auth.db') },
    redisUrl: undefined,
    corsOrigins: [],
    registration: 'open',
    logLevel: 'info',
    clockSkew: 30,
    argon2: { memoryKiB: 19456, timeCost: 2, parallelism: 1 },
    hashConcurrency: cores,
    loginMaxFailures: 10,
    loginWindow: 900,
    trustProxy: undefined,
    refreshReuseGrace: 10,
    keysReloadInterval: 60
  }
  for (const [key, value] of Object.entries(expected)) {
    t.same((config as unknown as Record<string, unknown>)[key], value, key)
  }
  t.ok(config.hashQueueLimit >= config.hashConcurrency, 'the hash queue holds at least one wave of requests')
})

t.test('an empty or blank variable means the default', async (t) => {
  const config = loadConfig({ PORT: '', JWT_ALG: '   ', REGISTRATION: '' })
  t.equal(config.port, 3000)
  t.equal(config.alg, 'ES256')
  t.equal(config.registration, 'open')
})

t.test('valid values are parsed', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    NODE_ENV: 'production',
    AUTH_ISSUER: 'https://auth.example.com/',
    AUTH_AUDIENCE: 'orders',
    JWT_ALG: 'EdDSA',
    ACCESS_TOKEN_TTL: '300',
    REFRESH_TOKEN_TTL: '86400',
    KEYS_DIR: '/run/secrets/keys',
    DATABASE_URL: 'postgres://tessera:pw@db:5432/tessera',
    REDIS_URL: 'redis://cache:6379',
    CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/',
    REGISTRATION: 'closed',
    LOG_LEVEL: 'warn',
    CLOCK_SKEW: '5',
    ARGON2_MEMORY_KIB: '65536',
    ARGON2_TIME_COST: '3',
    ARGON2_PARALLELISM: '4',
    HASH_CONCURRENCY: '3',
    HASH_QUEUE_LIMIT: '50',
    LOGIN_MAX_FAILURES: '5',
    LOGIN_WINDOW: '600',
    TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
    REFRESH_REUSE_GRACE: '0',
    KEYS_RELOAD_INTERVAL: '30'
  })
  t.match(config, {
    port: 8080,
    host: '0.0.0.0',
    production: true,
    issuer: 'https://auth.example.com',
    audience: 'orders',
    alg: 'EdDSA',
    accessTokenTtl: 300,
    refreshTokenTtl: 86400,
    keysDir: '/run/secrets/keys',
    database: { kind: 'postgres', url: 'postgres://tessera:pw@db:5432/tessera' },
    redisUrl: 'redis://cache:6379',
    registration: 'closed',
    logLevel: 'warn',
    clockSkew: 5,
    argon2: { memoryKiB: 65536, timeCost: 3, parallelism: 4 },
    hashConcurrency: 3,
    hashQueueLimit: 50,
    loginMaxFailures: 5,
    loginWindow: 600,
    trustProxy: '10.0.0.0/8, 192.168.1.1',
    refreshReuseGrace: 0,
    keysReloadInterval: 30
  })
  t.same(config.corsOrigins, ['https://app.example.com', 'http://localhost:5173'])
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
  t.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true)
  t.same(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/tessera/auth.db' }).database, { kind: 'sqlite', file: '/var/lib/tessera/auth.db' })
  t.same(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database, { kind: 'sqlite', file: ':memory:' })
})

t.test('the config is frozen, all the way down', async (t) => {
  const config = loadConfig({ CORS_ORIGINS: 'https://app.example.com' })
  t.ok(Object.isFrozen(config))
  t.ok(Object.isFrozen(config.argon2))
  t.ok(Object.isFrozen(config.corsOrigins))
  t.throws(() => { (config as { port: number }).port = 1 })
  t.throws(() => { (config.argon2 as { memoryKiB: number }).memoryKiB = 1 })
  t.throws(() => { (config.corsOrigins as string[]).push('https://evil.test') })
})

const BAD: Array<[string, string]> = [
  ['PORT', 'http'],
  ['PORT', '65536'],
  ['PORT', '-1'],
  ['NODE_ENV', 'prod'],
  ['AUTH_ISSUER', 'auth.example.com'],
  ['AUTH_ISSUER', 'ftp://auth.example.com'],
  ['AUTH_ISSUER', 'https://auth.example.com?tenant=1'],
  ['AUTH_ISSUER', 'https://auth.example.com#top'],
  ['JWT_ALG', 'HS256'],
  ['JWT_ALG', 'none'],
  ['JWT_ALG', 'es256'],
  ['ACCESS_TOKEN_TTL', '0'],
  ['ACCESS_TOKEN_TTL', '15m'],
  ['ACCESS_TOKEN_TTL', '1.5'],
  ['ACCESS_TOKEN_TTL', '86401'],
  ['REFRESH_TOKEN_TTL', '59'],
  ['DATABASE_URL', 'mysql://db/tessera'],
  ['DATABASE_URL', 'sqlite:'],
  ['DATABASE_URL', './data/auth.db'],
  ['REDIS_URL', 'http://cache:6379'],
  ['REDIS_URL', 'not a url'],
  ['CORS_ORIGINS', 'https://app.example.com/path'],
  ['CORS_ORIGINS', '*'],
  ['CORS_ORIGINS', 'app.example.com'],
  ['CORS_ORIGINS', 'null'],
  ['CORS_ORIGINS', 'https://app.example.com,ftp://files.example.com'],
  ['REGISTRATION', 'invite-only'],
  ['LOG_LEVEL', 'verbose'],
  ['CLOCK_SKEW', '301'],
  ['CLOCK_SKEW', 'a lot'],
  ['ARGON2_MEMORY_KIB', '19455'],
  ['ARGON2_MEMORY_KIB', '4096'],
  ['ARGON2_TIME_COST', '1'],
  ['ARGON2_PARALLELISM', '0'],
  ['HASH_CONCURRENCY', '0'],
  ['HASH_QUEUE_LIMIT', '0'],
  ['LOGIN_MAX_FAILURES', '0'],
  ['LOGIN_WINDOW', '0'],
  ['TRUST_PROXY', 'proxy.example.com'],
  ['REFRESH_REUSE_GRACE', '301'],
  ['KEYS_RELOAD_INTERVAL', '0'],
  ['KEY_ROTATION_DAYS', '0']
]

t.test('every variable is validated and a bad value names it', async (t) => {
  for (const [name, value] of BAD) {
    const error = problemsOf({ [name]: value })
    t.equal(error.problems.length, 1, `${name}=${value}: one problem`)
    t.match(error.problems[0], new RegExp(`^${name}: `), `${name}=${value} is refused and named`)
    t.match(error.message, name)
  }
})

t.test('the argon2 floor is explained', async (t) => {
  const error = problemsOf({ ARGON2_MEMORY_KIB: '19455' })
  t.match(error.message, /at least 19456/)
  t.match(error.message, /OWASP/)
  t.equal(loadConfig({ ARGON2_MEMORY_KIB: '19456' }).argon2.memoryKiB, 19456)
})

t.test('several bad variables are all named in one ConfigError', async (t) => {
  const error = problemsOf({ PORT: 'x', JWT_ALG: 'HS256', ARGON2_MEMORY_KIB: '1024', CORS_ORIGINS: 'https://a.example/x', REGISTRATION: 'maybe' })
  t.equal(error.name, 'ConfigError')
  t.equal(error.problems.length, 5)
  for (const name of ['PORT', 'JWT_ALG', 'ARGON2_MEMORY_KIB', 'CORS_ORIGINS', 'REGISTRATION']) {
    t.match(error.message, new RegExp(`- ${name}: `), `${name} is named`)
  }
})

t.test('a URL with a password is never echoed in the error', async (t) => {
  const database = problemsOf({ DATABASE_URL: 'mysql://admin:hunter2secret@db/tessera' })
  t.notMatch(database.message, 'hunter2secret')
  const redis = problemsOf({ REDIS_URL: 'http://:hunter2secret@cache:6379' })
  t.notMatch(redis.message, 'hunter2secret')
})
