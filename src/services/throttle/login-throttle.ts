import { AppError } from '../../errors.js'
import type { CounterStore } from './counter-store.js'

export interface LoginThrottle {
  /** Throws 429 TOO_MANY_REQUESTS (with Retry-After) when the account or the address has failed too often. */
  check (accountKey: string, address: string): Promise<void>
  recordFailure (accountKey: string, address: string): Promise<void>
  recordSuccess (accountKey: string): Promise<void>
}

/**
 * Failed logins per account (a guessing attack on one user) and per client address (one source spraying
 * many users) within a fixed window. Only failures count, so a user who types the password right is never
 * slowed down by their own successful logins.
 */
export function createLoginThrottle ({ counters, maxFailures, windowSeconds }: {
  counters: CounterStore
  maxFailures: number
  windowSeconds: number
}): LoginThrottle {
  const windowMs = windowSeconds * 1000
  const accountKey = (key: string) => `login:account:${key}`
  const addressKey = (address: string) => `login:address:${address}`

  return {
    async check (account, address) {
      const [byAccount, byAddress] = await Promise.all([counters.get(accountKey(account)), counters.get(addressKey(address))])
      const blocked = [byAccount, byAddress].filter((c) => c.count >= maxFailures)
      if (blocked.length > 0) {
        const retryAfter = Math.max(1, Math.ceil(Math.max(...blocked.map((c) => c.ttl)) / 1000))
        throw new AppError('TOO_MANY_REQUESTS', 'Too many failed logins; try again later', {
          retryAfter,
          reason: byAccount.count >= maxFailures ? 'account failures' : 'address failures'
        })
      }
    },
    async recordFailure (account, address) {
      await Promise.all([counters.increment(accountKey(account), windowMs), counters.increment(addressKey(address), windowMs)])
    },
    async recordSuccess (account) {
      await counters.reset(accountKey(account))
    }
  }
}
