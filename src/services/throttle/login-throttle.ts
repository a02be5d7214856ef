import { AppError } from '../../errors.js'
import { clientKey } from './client-key.js'
import type { Count, CounterStore } from './counter-store.js'

export interface LoginThrottle {
  /**
   * Call before hashing. Throws 429 TOO_MANY_REQUESTS (with Retry-After) while the account or the client address
   * must wait after failed logins, or when the deployment already takes as many logins this second as it may hash.
   */
  check (account: string, address: string): Promise<void>
  recordFailure (account: string, address: string): Promise<void>
  recordSuccess (account: string, address: string): Promise<void>
}

export interface LoginThrottleOptions {
  counters: CounterStore
  /** Failures (per account, and per client address) before any delay: LOGIN_MAX_FAILURES. */
  maxFailures: number
  /** Failures are forgotten this long after the last one: LOGIN_WINDOW. */
  windowSeconds: number
  /** The progressive delay never grows past this: LOGIN_MAX_DELAY. */
  maxDelaySeconds: number
  /** Login attempts per second for the whole deployment: LOGIN_GLOBAL_MAX_PER_SECOND. */
  globalMaxPerSecond: number
}

/** The delay after the LOGIN_MAX_FAILURES-th failure; each further failure doubles it. */
export const BASE_DELAY_MS = 1000

/** How long to wait after the last of `failures` failures (docs/throttling.md has the table). */
export function progressiveDelay (failures: number, maxFailures: number, maxDelayMs: number): number {
  if (failures < maxFailures) return 0
  return Math.min(maxDelayMs, BASE_DELAY_MS * 2 ** Math.min(failures - maxFailures, 30))
}

const GLOBAL_KEY = 'login:global'

/**
 * Three limits (docs/throttling.md):
 * - per account, failures from any address: a delay that doubles with each failure past LOGIN_MAX_FAILURES, up to
 *   LOGIN_MAX_DELAY, instead of a lockout an attacker could keep renewing;
 * - per client address, failures across usernames (password spraying): the same progressive delay;
 * - a global ceiling on login attempts per second, which protects the hashing capacity of the deployment.
 * An address with no recent failures that finds the account waiting gets a pass for the end of the current delay:
 * failures from elsewhere cannot keep it out for longer than that (OWASP Authentication Cheat Sheet, "account lockout").
 * Only failures count, so typing the password right never slows anyone down.
 */
export function createLoginThrottle ({ counters, maxFailures, windowSeconds, maxDelaySeconds, globalMaxPerSecond }: LoginThrottleOptions): LoginThrottle {
  const windowMs = windowSeconds * 1000
  const maxDelayMs = maxDelaySeconds * 1000
  const accountKey = (account: string) => `login:account:${account}`
  const addressKey = (client: string) => `login:address:${client}`
  const passKey = (account: string, client: string) => `login:pass:${account}:${client}`

  /** Both failure counters slide, so `windowMs - ttl` is the time since the last failure. */
  const remaining = (failures: Count) =>
    failures.count === 0 ? 0 : progressiveDelay(failures.count, maxFailures, maxDelayMs) - (windowMs - failures.ttl)

  /**
   * The pass is a counter whose life is "wait, then `windowMs` to use it": while more than `windowMs` is left,
   * the holder still waits; after that it goes through, however the account's delay has moved since.
   */
  async function waitForPass (account: string, client: string, accountWait: number): Promise<void> {
    const key = passKey(account, client)
    const pass = await counters.get(key)
    if (pass.count === 0) {
      await counters.increment(key, accountWait + windowMs)
      throw tooManyFailures(accountWait, 'account failures (pass reserved)')
    }
    const passIn = pass.ttl - windowMs
    if (passIn > 0) throw tooManyFailures(passIn, 'account failures (pass reserved)')
  }

  return {
    async check (account, address) {
      const client = clientKey(address)
      const [byAccount, byAddress] = await Promise.all([counters.get(accountKey(account)), counters.get(addressKey(client))])
      const addressWait = remaining(byAddress)
      if (addressWait > 0) throw tooManyFailures(addressWait, 'address failures')
      const accountWait = remaining(byAccount)
      if (accountWait > 0) {
        if (byAddress.count > 0) throw tooManyFailures(accountWait, 'account failures')
        await waitForPass(account, client, accountWait)
      }
      const global = await counters.increment(GLOBAL_KEY, 1000)
      if (global.count > globalMaxPerSecond) {
        throw new AppError('TOO_MANY_REQUESTS', 'The service takes too many logins right now; try again shortly', {
          retryAfter: retryAfterSeconds(global.ttl),
          reason: 'global login ceiling'
        })
      }
    },
    async recordFailure (account, address) {
      const client = clientKey(address)
      await Promise.all([
        counters.incrementSliding(accountKey(account), windowMs),
        counters.incrementSliding(addressKey(client), windowMs),
        counters.reset(passKey(account, client))
      ])
    },
    async recordSuccess (account, address) {
      // The account's failure count stays: it fades after LOGIN_WINDOW, and erasing it would hand an attacker
      // a fresh set of fast guesses every time the real user logs in.
      await counters.reset(passKey(account, clientKey(address)))
    }
  }
}

function retryAfterSeconds (ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

function tooManyFailures (waitMs: number, reason: string): AppError {
  return new AppError('TOO_MANY_REQUESTS', 'Too many failed logins; try again later', { retryAfter: retryAfterSeconds(waitMs), reason })
}
