import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'

export type Algorithm = 'ES256' | 'EdDSA' | 'RS256'
export const ALGORITHMS: readonly Algorithm[] = ['ES256', 'EdDSA', 'RS256']

/** OWASP Password Storage Cheat Sheet floor for argon2id (m=19 MiB, t=2, p=1). */
export const ARGON2_FLOOR = { memoryKiB: 19456, timeCost: 2, parallelism: 1 } as const

export type StoreUrl = { kind: 'sqlite', file: string } | { kind: 'postgres', url: string }

export interface Config {
  readonly port: number
  readonly host: string
  readonly production: boolean
  readonly issuer: string
  readonly audience: string
  readonly alg: Algorithm
  readonly accessTokenTtl: number
  readonly refreshTokenTtl: number
  readonly keysDir: string
  readonly database: StoreUrl
  readonly redisUrl: string | undefined
  /** Prepended to every Redis key, so deployments (or test runs) sharing one Redis never see each other's counters. */
  readonly redisPrefix: string
  readonly corsOrigins: readonly string[]
  readonly registration: 'open' | 'closed'
  readonly logLevel: string
  readonly clockSkew: number
  readonly argon2: { readonly memoryKiB: number, readonly timeCost: number, readonly parallelism: number }
  readonly hashConcurrency: number
  readonly hashQueueLimit: number
  readonly loginMaxFailures: number
  readonly loginWindow: number
  /** Longest progressive login delay in seconds (never more than loginWindow); see docs/throttling.md. */
  readonly loginMaxDelay: number
  /** Login attempts per second the whole deployment hashes at most (the global ceiling). */
  readonly loginGlobalMaxPerSecond: number
  readonly registerMaxPerWindow: number
  readonly registerWindow: number
  readonly refreshMaxPerWindow: number
  readonly refreshWindow: number
  /**
   * Minimum length of a new password, in Unicode code points. Never below 8, the floor of NIST SP 800-63B rev. 3
   * §5.1.1.2; rev. 4 §3.1.1.2 asks 15 when the password is the only factor, ASVS v4.0.3 2.1.1 asks 12 (SECURITY.md).
   */
  readonly passwordMinLength: number
  /** File of common passwords refused for new passwords; undefined means the bundled list. */
  readonly passwordBlocklist: string | undefined
  readonly trustProxy: boolean | number | string | undefined
  readonly refreshReuseGrace: number
  readonly keysReloadInterval: number
  /** Automatic rotation period in days; undefined means keys rotate only through the CLI. */
  readonly keyRotationDays: number | undefined
  /** Seconds a JWKS response may be cached (see JWKS_MAX_AGE). */
  readonly jwksMaxAge: number
  /** Seconds between publishing a new key and its first signature (derived, see publishLead()). */
  readonly keyPublishLead: number
  /** Seconds between re-reads of the revocation list by the verify hook. */
  readonly revocationPollInterval: number
  /** When set, /metrics is served on this port by a listener of its own instead of on the API port. */
  readonly metricsPort: number | undefined
}

/**
 * How long verifiers may cache the JWKS. A cache must never miss a key that signs, so the rotation schedule
 * publishes every key publishLead() ahead: longer than this max-age plus the time replicas take to re-read
 * KEYS_DIR. Five minutes keeps JWKS traffic low and is far below the shortest rotation period (one day).
 */
export const JWKS_MAX_AGE = 300

/** New keys are published this long before they sign: every replica re-reads KEYS_DIR, then every cache expires. */
export function publishLead (maxAge: number, reloadInterval: number): number {
  return maxAge + reloadInterval + 60
}

/** Every problem found in the environment, so an operator fixes them in one pass. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

type Env = Record<string, string | undefined>

/** Reads and validates the environment once; the result is frozen and never read from `process.env` again. */
export function loadConfig (env: Env = process.env): Config {
  const problems: string[] = []
  const read = createReader(env, problems)

  const production = read.oneOf('NODE_ENV', ['development', 'production', 'test'], 'development') === 'production'
  const argon2 = {
    memoryKiB: read.int('ARGON2_MEMORY_KIB', ARGON2_FLOOR.memoryKiB, { min: ARGON2_FLOOR.memoryKiB, max: 4 * 1024 * 1024, why: 'the OWASP floor for argon2id' }),
    timeCost: read.int('ARGON2_TIME_COST', ARGON2_FLOOR.timeCost, { min: ARGON2_FLOOR.timeCost, max: 100, why: 'the OWASP floor for argon2id' }),
    parallelism: read.int('ARGON2_PARALLELISM', ARGON2_FLOOR.parallelism, { min: 1, max: 64 })
  }
  const hashConcurrency = read.int('HASH_CONCURRENCY', Math.max(1, availableParallelism() - 1), { min: 1, max: 256 })

  const loginWindow = read.int('LOGIN_WINDOW', 900, { min: 1, max: 86400 })
  const keysReloadInterval = read.int('KEYS_RELOAD_INTERVAL', 60, { min: 1, max: 86400 })
  const keyRotationDays = read.optionalInt('KEY_ROTATION_DAYS', { min: 1, max: 3650 })

  const config: Config = {
    port: read.int('PORT', 3000, { min: 0, max: 65535 }),
    host: read.string('HOST', '127.0.0.1'),
    production,
    issuer: read.url('AUTH_ISSUER', 'http://localhost:3000'),
    audience: read.string('AUTH_AUDIENCE', 'api'),
    alg: read.oneOf('JWT_ALG', ALGORITHMS, 'ES256'),
    accessTokenTtl: read.int('ACCESS_TOKEN_TTL', 900, { min: 1, max: 86400 }),
    refreshTokenTtl: read.int('REFRESH_TOKEN_TTL', 2592000, { min: 60, max: 31536000 }),
    keysDir: resolve(read.string('KEYS_DIR', './keys')),
    database: read.database('DATABASE_URL', 'sqlite:./data/auth.db'),
    redisUrl: read.optionalUrl('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: read.string('REDIS_PREFIX', 'tessera:'),
    corsOrigins: read.origins('CORS_ORIGINS'),
    registration: read.oneOf('REGISTRATION', ['open', 'closed'], 'open'),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    clockSkew: read.int('CLOCK_SKEW', 30, { min: 0, max: 300 }),
    argon2,
    hashConcurrency,
    // Waiting requests beyond this answer 503 at once instead of piling up behind the hashing threads.
    hashQueueLimit: read.int('HASH_QUEUE_LIMIT', hashConcurrency * 64, { min: 1, max: 100000 }),
    loginMaxFailures: read.int('LOGIN_MAX_FAILURES', 10, { min: 1, max: 10000 }),
    loginWindow,
    // A delay longer than the window would outlive the failures it is computed from, so the window caps it.
    loginMaxDelay: Math.min(loginWindow, read.int('LOGIN_MAX_DELAY', 300, { min: 1, max: 86400 })),
    loginGlobalMaxPerSecond: read.int('LOGIN_GLOBAL_MAX_PER_SECOND', 100, { min: 1, max: 1_000_000 }),
    registerMaxPerWindow: read.int('REGISTER_MAX_PER_WINDOW', 30, { min: 1, max: 1_000_000 }),
    registerWindow: read.int('REGISTER_WINDOW', 3600, { min: 1, max: 86400 }),
    refreshMaxPerWindow: read.int('REFRESH_MAX_PER_WINDOW', 300, { min: 1, max: 1_000_000 }),
    refreshWindow: read.int('REFRESH_WINDOW', 60, { min: 1, max: 86400 }),
    passwordMinLength: read.int('PASSWORD_MIN_LENGTH', 8, { min: 8, max: 128, why: 'the NIST SP 800-63B floor' }),
    passwordBlocklist: read.optionalPath('PASSWORD_BLOCKLIST'),
    trustProxy: read.trustProxy('TRUST_PROXY'),
    refreshReuseGrace: read.int('REFRESH_REUSE_GRACE', 10, { min: 0, max: 300 }),
    keysReloadInterval,
    keyRotationDays,
    jwksMaxAge: JWKS_MAX_AGE,
    keyPublishLead: publishLead(JWKS_MAX_AGE, keysReloadInterval),
    // Seconds between re-reads of the revocation list by the verify hook: the longest a logout takes to reach it.
    revocationPollInterval: read.int('REVOCATION_POLL_INTERVAL', 5, { min: 1, max: 300 }),
    metricsPort: read.optionalInt('METRICS_PORT', { min: 1, max: 65535 })
  }
  if (config.metricsPort !== undefined && config.metricsPort === config.port) {
    problems.push(`METRICS_PORT: must differ from PORT (${config.port}); leave it unset to serve /metrics on the API port`)
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(config)
}

function createReader (env: Env, problems: string[]) {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const fail = <T>(name: string, message: string, fallback: T): T => {
    problems.push(`${name}: ${message}`)
    return fallback
  }

  return {
    string (name: string, fallback: string): string {
      return raw(name) ?? fallback
    },
    int (name: string, fallback: number, { min, max, why }: { min: number, max: number, why?: string }): number {
      const value = raw(name)
      if (value === undefined) return fallback
      if (!/^\d+$/.test(value)) return fail(name, `must be a whole number, got "${value}"`, fallback)
      const n = Number(value)
      if (n < min) return fail(name, `must be at least ${min}${why ? ` (${why})` : ''}, got ${n}`, fallback)
      if (n > max) return fail(name, `must be at most ${max}, got ${n}`, fallback)
      return n
    },
    optionalInt (name: string, { min, max }: { min: number, max: number }): number | undefined {
      return raw(name) === undefined ? undefined : this.int(name, min, { min, max })
    },
    oneOf<T extends string> (name: string, allowed: readonly T[], fallback: T): T {
      const value = raw(name)
      if (value === undefined) return fallback
      if (!(allowed as readonly string[]).includes(value)) {
        return fail(name, `must be one of ${allowed.join(', ')}, got "${value}"`, fallback)
      }
      return value as T
    },
    url (name: string, fallback: string): string {
      const value = raw(name) ?? fallback
      const url = parseUrl(value)
      if (!url || !['http:', 'https:'].includes(url.protocol)) return fail(name, `must be an http(s) URL, got "${value}"`, fallback)
      // RFC 8414 §2: an issuer has no query or fragment (and jwks_uri is built by appending a path to it).
      if (/[?#]/.test(value)) return fail(name, `must have no query or fragment, got "${value}"`, fallback)
      // The issuer is compared as a string by every verifier: keep exactly what the operator wrote, minus a trailing slash.
      return value.replace(/\/+$/, '')
    },
    optionalPath (name: string): string | undefined {
      const value = raw(name)
      return value === undefined ? undefined : resolve(value)
    },
    optionalUrl (name: string, protocols: string[]): string | undefined {
      const value = raw(name)
      if (value === undefined) return undefined
      const url = parseUrl(value)
      if (!url || !protocols.includes(url.protocol)) return fail(name, `must be a ${protocols.join(' or ')} URL`, undefined)
      return value
    },
    database (name: string, fallback: string): StoreUrl {
      const value = raw(name) ?? fallback
      if (value.startsWith('sqlite:')) {
        const file = value.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
        if (file === '') return fail(name, 'sqlite: needs a file path, e.g. sqlite:./data/auth.db', { kind: 'sqlite', file: '' })
        return { kind: 'sqlite', file: file === ':memory:' ? file : resolve(file) }
      }
      const url = parseUrl(value)
      if (url && (url.protocol === 'postgres:' || url.protocol === 'postgresql:')) return { kind: 'postgres', url: value }
      // Never echo the value: a database URL usually carries a password.
      return fail(name, 'must start with sqlite: or postgres://', { kind: 'sqlite', file: '' })
    },
    origins (name: string): string[] {
      const value = raw(name)
      if (value === undefined) return []
      const origins: string[] = []
      for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        const url = parseUrl(entry)
        // An origin is scheme://host[:port] and nothing else; comparing exact strings is what makes look-alikes fail.
        if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== entry.replace(/\/$/, '')) {
          fail(name, `"${entry}" is not an origin like https://app.example.com`, undefined)
          continue
        }
        origins.push(url.origin)
      }
      return origins
    },
    trustProxy (name: string): boolean | number | string | undefined {
      const value = raw(name)
      if (value === undefined || value === 'false') return undefined
      if (value === 'true') return true
      if (/^\d+$/.test(value)) return Number(value)
      const ok = value.split(',').every((part) => /^[0-9a-fA-F.:/]+$/.test(part.trim()) || ['loopback', 'linklocal', 'uniquelocal'].includes(part.trim()))
      if (!ok) return fail(name, 'must be a hop count, true, or comma-separated addresses/CIDRs', undefined)
      return value
    }
  }
}

function parseUrl (value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

function deepFreeze<T> (value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
