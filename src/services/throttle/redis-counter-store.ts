import { Redis } from 'ioredis'
import type { Count, CounterStore, SpacedCount } from './counter-store.js'

/**
 * INCR and the window's expiry in one atomic step: a crash between the two can never leave a counter
 * without a TTL (which would lock an account for good). A key found without a TTL gets one here too.
 * Returns the count and the milliseconds left in the window.
 */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`

/** Gives one count back without touching the window's expiry, and never below zero. */
const DECREMENT_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
`

/**
 * incrementSpaced (counter-store.ts) in one atomic step. ARGV: windowMs, then free, baseMs, maxMs when spaced
 * (absent: always apply). The time since the last increment is windowMs - PTTL, because every applied
 * increment sets the expiry to windowMs. Returns {count, applied (0/1), waitMs}.
 */
const INCREMENT_SPACED_SCRIPT = `
local window = tonumber(ARGV[1])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[2] and count > 0 then
  local free, base, max = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
  if count >= free then
    local ttl = redis.call('PTTL', KEYS[1])
    local idle = window
    if ttl >= 0 then idle = window - ttl end
    local needed = math.min(max, base * 2 ^ math.min(count - free, 30))
    if idle < needed then return {count, 0, needed - idle} end
  end
end
count = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], window)
return {count, 1, 0}
`

type CounterRedis = Redis & {
  incrementSpacedWindow (key: string, ...args: number[]): Promise<[number, number, number]>
  incrementWindow (key: string, windowMs: number): Promise<[number, number]>
  decrementWindow (key: string): Promise<number>
}

export interface RedisCounterOptions {
  url: string
  /** Prepended to every key, so several deployments (or test runs) can share one Redis. */
  prefix: string
  /** Longest wait for one command; a login never waits longer than this on Redis. */
  commandTimeoutMs?: number
}

/**
 * Failure counters shared by every replica. The client never queues commands while disconnected and gives
 * up on a command after `commandTimeoutMs`: a dead Redis makes calls fail fast (the fallback store then
 * counts in memory) instead of holding logins. It keeps reconnecting in the background on its own.
 */
export function createRedisCounterStore ({ url, prefix, commandTimeoutMs = 500 }: RedisCounterOptions): CounterStore {
  const redis = new Redis(url, {
    keyPrefix: prefix,
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000)
  }) as CounterRedis
  // Connection errors surface as failed commands, which the fallback store reports; an unhandled
  // 'error' event would only print ioredis' own warning.
  redis.on('error', () => {})
  redis.defineCommand('incrementWindow', { numberOfKeys: 1, lua: INCREMENT_SCRIPT })
  redis.defineCommand('decrementWindow', { numberOfKeys: 1, lua: DECREMENT_SCRIPT })
  redis.defineCommand('incrementSpacedWindow', { numberOfKeys: 1, lua: INCREMENT_SPACED_SCRIPT })
  let everReady = false
  redis.once('ready', () => { everReady = true })

  /**
   * Without an offline queue a command sent before the first connection completes fails at once, which
   * would report Redis as down at every start. So the first connection is awaited (for one command
   * timeout at most); after that a disconnected client fails fast.
   */
  let firstConnection: Promise<void> | undefined
  async function connected (): Promise<void> {
    if (everReady || redis.status === 'ready') return
    // One wait shared by every caller, so a burst of logins at start adds one set of listeners, not one each.
    firstConnection ??= new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer)
        redis.off('ready', onReady)
        redis.off('error', done)
        firstConnection = undefined
        if (error) reject(error)
        else resolve()
      }
      const onReady = () => done()
      const timer = setTimeout(() => done(new Error(`Redis not connected within ${commandTimeoutMs} ms`)), commandTimeoutMs)
      redis.once('ready', onReady)
      redis.once('error', done)
    })
    await firstConnection
  }

  return {
    async increment (key, windowMs) {
      await connected()
      const [count, ttl] = await redis.incrementWindow(key, windowMs)
      return { count, ttl }
    },
    async incrementSpaced (key, windowMs, spacing): Promise<SpacedCount> {
      await connected()
      const args = spacing ? [windowMs, spacing.free, spacing.baseMs, spacing.maxMs] : [windowMs]
      const [count, applied, waitMs] = await redis.incrementSpacedWindow(key, ...args)
      return { count, applied: applied === 1, waitMs }
    },
    async get (key): Promise<Count> {
      await connected()
      const results = await redis.multi().get(key).pttl(key).exec()
      const [[getError, value], [ttlError, ttl]] = (results ?? [[null, null], [null, -2]]) as [[Error | null, string | null], [Error | null, number]]
      if (getError || ttlError) throw getError ?? ttlError
      return value === null ? { count: 0, ttl: 0 } : { count: Number(value), ttl: Math.max(0, ttl) }
    },
    async decrement (key) {
      await connected()
      await redis.decrementWindow(key)
    },
    async reset (key) {
      await connected()
      await redis.del(key)
    },
    async close () {
      // Every counter is already written; there is nothing to flush, so do not wait on a dead server.
      redis.disconnect()
    }
  }
}
