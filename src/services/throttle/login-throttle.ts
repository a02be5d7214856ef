import { isIPv6 } from 'node:net'
import { AppError } from '../../errors.js'
import type { CounterStore } from './counter-store.js'

export interface LoginThrottle {
  /**
   * Counts the attempt as a failure before the password is checked; throws 429 TOO_MANY_REQUESTS (with
   * Retry-After) when the account or the address is over the limit. Counting first is what makes the limit
   * hold under concurrency: parallel guesses each see their own count, so only `maxFailures` reach argon2.
   */
  begin (accountKey: string, address: string): Promise<void>
  /** The password was right: the account starts afresh and the address gets its attempt back. */
  recordSuccess (accountKey: string, address: string): Promise<void>
  /** The attempt ended without a verdict on the password (store down, server busy): it does not count. */
  release (accountKey: string, address: string): Promise<void>
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
  const addressKey = (address: string) => `login:address:${addressBucket(address)}`

  async function release (account: string, address: string) {
    await Promise.all([counters.decrement(accountKey(account)), counters.decrement(addressKey(address))])
  }

  return {
    async begin (account, address) {
      const [byAccount, byAddress] = await Promise.all([
        counters.increment(accountKey(account), windowMs),
        counters.increment(addressKey(address), windowMs)
      ])
      const blocked = [byAccount, byAddress].filter((c) => c.count > maxFailures)
      if (blocked.length === 0) return
      // A refused attempt is not a failure of its own: it must not extend anyone's block.
      await release(account, address)
      const retryAfter = Math.max(1, Math.ceil(Math.max(...blocked.map((c) => c.ttl)) / 1000))
      throw new AppError('TOO_MANY_REQUESTS', 'Too many failed logins; try again later', {
        retryAfter,
        reason: byAccount.count > maxFailures ? 'account failures' : 'address failures'
      })
    },
    async recordSuccess (account, address) {
      await Promise.all([counters.reset(accountKey(account)), counters.decrement(addressKey(address))])
    },
    release
  }
}

/**
 * The unit a client controls. An IPv6 site is given a whole /64 (RFC 7934 §6), so counting single IPv6
 * addresses would let one client try 2^64 times as often; an IPv4-mapped address is its IPv4 address.
 */
export function addressBucket (address: string): string {
  const bare = address.split('%')[0] ?? address
  if (!isIPv6(bare)) return address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  if (mapped?.[1]) return mapped[1]
  const [head = '', tail] = bare.toLowerCase().split('::')
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => g.includes('.') ? ['0', '0'] : [g]) : [])
  const left = groups(head)
  const right = groups(tail)
  const full = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return `${full.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`
}
