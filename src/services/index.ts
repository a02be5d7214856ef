import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { createStore } from '../store/index.js'
import type { Store } from '../store/types.js'
import { createAccounts, type Accounts } from './accounts.js'
import type { ServiceEvents } from './events.js'
import { createKeyring, ensureSigningKey, type Keyring } from './keys/keyring.js'
import { createKeyMaintenance } from './keys/maintenance.js'
import { observeAccounts } from './observe/accounts.js'
import { observeRevocations, observeSessions } from './observe/sessions.js'
import { defaultBlocklistFile, loadBlocklist } from './passwords/blocklist.js'
import { createPasswordHasher, type PasswordHasher } from './passwords/hasher.js'
import { createPasswordPolicy, type PasswordPolicy } from './passwords/policy.js'
import { createSessions, type Sessions } from './sessions/sessions.js'
import type { CounterStore } from './throttle/counter-store.js'
import { createCounterStore } from './throttle/create-counter-store.js'
import { createLoginThrottle } from './throttle/login-throttle.js'
import { createRateLimit, type RateLimit } from './throttle/rate-limit.js'
import { createAccessTokenSigner, type TokenRules } from './tokens/access-token.js'

export interface Services {
  store: Store
  keyring: Keyring
  hasher: PasswordHasher
  policy: PasswordPolicy
  counters: CounterStore
  /** Requests per client address on routes that cost work but guess no secret. */
  limits: { register: RateLimit, refresh: RateLimit }
  sessions: Sessions
  accounts: Accounts
  rules: TokenRules
  /** Scheduled rotation step and re-read of KEYS_DIR; never throws. */
  maintainKeys (): Promise<void>
  /** Deletes sessions and revocation entries that can no longer matter. */
  purgeExpired (): Promise<{ sessions: number, revocations: number }>
  close (): Promise<void>
}

/** Everything the routes need, built from the frozen config. Tests and production call this the same way. */
export async function createServices ({ config, log, clock, store: given, events }: {
  config: Config
  log: FastifyBaseLogger
  clock: Clock
  store?: Store
  /** Told about logins, refreshes, revocations and hashing waits (metrics); behaviour is the same without it. */
  events?: ServiceEvents
}): Promise<Services> {
  const store = given ?? await createStore(config.database)
  try {
    return await assemble(config, log, clock, store, events)
  } catch (error) {
    await store.close().catch(() => {})
    throw error
  }
}

async function assemble (config: Config, log: FastifyBaseLogger, clock: Clock, store: Store, events: ServiceEvents | undefined): Promise<Services> {
  await store.migrate()
  const keyringOptions = { dir: config.keysDir, alg: config.alg, clock, log }
  const keyring = await createKeyring(keyringOptions)
  await ensureSigningKey(keyring, { ...keyringOptions, production: config.production })
  const hasher = await createPasswordHasher({
    params: config.argon2,
    concurrency: config.hashConcurrency,
    queueLimit: config.hashQueueLimit,
    ...(events ? { onWait: (ms: number) => events.hashWait(ms) } : {})
  })
  const policy = createPasswordPolicy({ minLength: config.passwordMinLength, blocklist: await loadPasswordBlocklist(config, log) })
  const counters = await createCounterStore({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, clock, log })
  const throttle = createLoginThrottle({
    counters,
    maxFailures: config.loginMaxFailures,
    windowSeconds: config.loginWindow,
    maxDelaySeconds: config.loginMaxDelay,
    globalMaxPerSecond: config.loginGlobalMaxPerSecond
  })
  const limits = {
    register: createRateLimit({ counters, name: 'register', max: config.registerMaxPerWindow, windowSeconds: config.registerWindow }),
    refresh: createRateLimit({ counters, name: 'refresh', max: config.refreshMaxPerWindow, windowSeconds: config.refreshWindow })
  }
  const signer = createAccessTokenSigner({ keyring, clock, issuer: config.issuer, audience: config.audience, ttl: config.accessTokenTtl })
  const plainSessions = createSessions({
    store: events ? observeRevocations(store, events) : store,
    signer,
    clock,
    log,
    refreshTtl: config.refreshTokenTtl,
    // The longest a token issued now can be accepted: its lifetime plus the clock skew verifiers allow.
    tokenLifetime: config.accessTokenTtl + config.clockSkew,
    reuseGrace: config.refreshReuseGrace
  })
  const sessions = events ? observeSessions(plainSessions, events) : plainSessions
  const plainAccounts = createAccounts({ store, hasher, policy, sessions, throttle, clock, log })
  const accounts = events ? observeAccounts(plainAccounts, events) : plainAccounts
  const rules: TokenRules = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [config.alg],
    clockSkew: config.clockSkew,
    maxLifetime: config.accessTokenTtl
  }

  return {
    store,
    keyring,
    hasher,
    policy,
    counters,
    limits,
    sessions,
    accounts,
    rules,
    maintainKeys: createKeyMaintenance({ config, keyring, clock, log }),
    async purgeExpired () {
      const now = clock.now()
      const purged = { sessions: await store.sessions.purgeExpired(now), revocations: await store.revocations.purge(now) }
      if (purged.sessions + purged.revocations > 0) log.info({ purged }, 'expired sessions and revocations purged')
      return purged
    },
    async close () {
      await counters.close()
      await store.close()
    }
  }
}

async function loadPasswordBlocklist (config: Config, log: FastifyBaseLogger) {
  const file = config.passwordBlocklist ?? defaultBlocklistFile()
  const started = performance.now()
  const blocklist = await loadBlocklist(file).catch((error: unknown) => {
    const { code, message } = error as { code?: string, message?: string }
    // The start stops here: name the variable, as config errors do, and keep the code (ENOENT, EACCES) for callers.
    throw Object.assign(new Error(`PASSWORD_BLOCKLIST (${file}): ${message ?? String(error)}`, { cause: error }), { code })
  })
  log.info({ file, entries: blocklist.size, ms: Math.round(performance.now() - started) }, 'password blocklist loaded')
  return blocklist
}
