import { AppError } from '../../errors.js'
import { addressBucket } from './client-key.js'
import type { CounterStore } from './counter-store.js'

export interface RateLimit {
  /** Counts one request from `address`; throws 429 TOO_MANY_REQUESTS with Retry-After past `max` in the window. */
  hit (address: string): Promise<void>
}

/**
 * Requests per client address in a fixed window, for routes that are not about guessing a secret but cost
 * something (registration: a hash and a row; refresh: a lookup and a signature). Every request counts, success or not.
 */
export function createRateLimit ({ counters, name, max, windowSeconds }: {
  counters: CounterStore
  name: string
  max: number
  windowSeconds: number
}): RateLimit {
  const windowMs = windowSeconds * 1000
  return {
    async hit (address) {
      const { count, ttl } = await counters.increment(`${name}:address:${addressBucket(address)}`, windowMs)
      if (count > max) {
        throw new AppError('TOO_MANY_REQUESTS', 'Too many requests from this address; try again later', {
          retryAfter: Math.max(1, Math.ceil(ttl / 1000)),
          reason: `${name} rate limit`
        })
      }
    }
  }
}
