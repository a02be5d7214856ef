import { AppError } from '../../errors.js'
import { spacingAfter, type CounterStore, type Spacing } from './counter-store.js'
import { addressBucket } from './client-key.js'

export { addressBucket }

export interface LoginThrottle {
  /**
   * Counts the attempt as a failure before the password is checked; throws 429 TOO_MANY_REQUESTS (with
   * Retry-After) when the address or the account must wait, or when the deployment already takes as many logins
   * this second as it may hash. Counting first, atomically, is what makes the limits hold under concurrency:
   * parallel guesses each take their own place in the count, and only those the spacing allows reach argon2.
   */
  begin (account: string, address: string): Promise<void>
  /** The password was right: the attempt is given back to the account and the address (others' failures stay). */
  recordSuccess (account: string, address: string): Promise<void>
  /** The attempt ended without a verdict on the password (store down, server busy): it does not count. */
  release (account: string, address: string): Promise<void>
}

export interface LoginThrottleOptions {
  counters: CounterStore
  /** Failures (per account, and per client address) before any delay: LOGIN_MAX_FAILURES. */
  maxFailures: number
  /** Failures are forgotten this long after the last one: LOGIN_WINDOW. */
  windowSeconds: number
  /** The progressive delay never grows past this: LOGIN_MAX_DELAY (default 300, and never more than the window). */
  maxDelaySeconds?: number
  /** Login attempts per second for the whole deployment: LOGIN_GLOBAL_MAX_PER_SECOND (default: no ceiling). */
  globalMaxPerSecond?: number
}

/** The delay after the LOGIN_MAX_FAILURES-th failure; each further failure doubles it. */
export const BASE_DELAY_MS = 1000

/** How long to wait after the last of `failures` failures in a row (docs/throttling.md has the table). */
export function progressiveDelay (failures: number, maxFailures: number, maxDelayMs: number): number {
  return spacingAfter(failures, { free: maxFailures, baseMs: BASE_DELAY_MS, maxMs: maxDelayMs })
}

const GLOBAL_KEY = 'login:global'

/**
 * Three limits (docs/throttling.md):
 * - per client address, failures across usernames (password spraying), and
 * - per account, failures from any address: after LOGIN_MAX_FAILURES failures each further attempt waits
 *   1 s, doubling per failure, up to LOGIN_MAX_DELAY, instead of a lockout an attacker could keep renewing;
 * - a global ceiling on login attempts per second, which protects the hashing capacity of the deployment.
 * An address with no recent failures that finds the account waiting gets a pass for the end of the current delay:
 * failures from elsewhere cannot keep it out for longer than that (OWASP Authentication Cheat Sheet, account
 * lockout). Only failures count, so typing the password right never slows anyone down.
 */
export function createLoginThrottle ({ counters, maxFailures, windowSeconds, maxDelaySeconds = 300, globalMaxPerSecond = Infinity }: LoginThrottleOptions): LoginThrottle {
  const windowMs = windowSeconds * 1000
  const spacing: Spacing = { free: maxFailures, baseMs: BASE_DELAY_MS, maxMs: Math.min(maxDelaySeconds, windowSeconds) * 1000 }
  const accountKey = (account: string) => `login:account:${account}`
  const addressKey = (address: string) => `login:address:${addressBucket(address)}`
  const passKey = (account: string, address: string) => `login:pass:${account}:${addressBucket(address)}`

  async function release (account: string, address: string) {
    await Promise.all([counters.decrement(accountKey(account)), counters.decrement(addressKey(address))])
  }

  /**
   * The account must wait, and this address had no failures before this attempt. Its pass is a counter whose life
   * is "the wait, then the window to use it": while more than the window is left the holder still waits; after
   * that it goes through, however the account's delay has moved since.
   */
  async function passOrWait (account: string, address: string, accountWaitMs: number): Promise<void> {
    const key = passKey(account, address)
    const pass = await counters.get(key)
    let waitMs = pass.count === 0 ? accountWaitMs : pass.ttl - windowMs
    if (pass.count === 0) await counters.increment(key, accountWaitMs + windowMs)
    if (waitMs <= 0) {
      await counters.incrementSpaced(accountKey(account), windowMs)
      return
    }
    await counters.decrement(addressKey(address))
    throw tooManyFailures(waitMs, 'account failures (pass reserved)')
  }

  return {
    async begin (account, address) {
      const byAddress = await counters.incrementSpaced(addressKey(address), windowMs, spacing)
      // A refused attempt changes no counter: it is not a failure of its own and extends nobody's delay.
      if (!byAddress.applied) throw tooManyFailures(byAddress.waitMs, 'address failures')
      const byAccount = await counters.incrementSpaced(accountKey(account), windowMs, spacing)
      if (!byAccount.applied) {
        if (byAddress.count === 1) await passOrWait(account, address, byAccount.waitMs)
        else {
          await counters.decrement(addressKey(address))
          throw tooManyFailures(byAccount.waitMs, 'account failures')
        }
      }
      const global = await counters.increment(GLOBAL_KEY, 1000)
      if (global.count > globalMaxPerSecond) {
        await release(account, address)
        throw new AppError('TOO_MANY_REQUESTS', 'The service takes too many logins right now; try again shortly', {
          retryAfter: retryAfterSeconds(global.ttl),
          reason: 'global login ceiling'
        })
      }
    },
    async recordSuccess (account, address) {
      // The account's other failures stay (they fade after LOGIN_WINDOW): erasing them would hand an attacker a
      // fresh set of fast guesses every time the real user logs in.
      await Promise.all([release(account, address), counters.reset(passKey(account, address))])
    },
    release
  }
}

function retryAfterSeconds (ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

function tooManyFailures (waitMs: number, reason: string): AppError {
  return new AppError('TOO_MANY_REQUESTS', 'Too many failed logins; try again later', { retryAfter: retryAfterSeconds(waitMs), reason })
}
