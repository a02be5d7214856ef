import type { Clock } from '../../clock.js'

export interface Count {
  count: number
  /** Milliseconds until the window of this counter ends. */
  ttl: number
}

/** Fixed-window failure counters. In memory for one process; a Redis implementation shares them across replicas. */
export interface CounterStore {
  /** Adds one; a new counter lives `windowMs` from its first increment (a fixed window). */
  increment (key: string, windowMs: number): Promise<Count>
  /**
   * Adds one and moves the end of the counter to `windowMs` from now, so the count is forgotten only after
   * `windowMs` without increments (a sliding idle timeout). The returned `ttl` is therefore always `windowMs`,
   * and `windowMs - get(key).ttl` later tells how long ago the last increment was. In Redis: INCR + PEXPIRE
   * in one MULTI.
   */
  incrementSliding (key: string, windowMs: number): Promise<Count>
  get (key: string): Promise<Count>
  reset (key: string): Promise<void>
  close (): Promise<void>
}

/**
 * A bounded map: an attacker cycling through millions of usernames or addresses cannot grow it past
 * `maxKeys`; the oldest windows are dropped first (Map keeps insertion order).
 */
export function createMemoryCounterStore ({ clock, maxKeys = 100_000 }: { clock: Clock, maxKeys?: number }): CounterStore {
  const counters = new Map<string, { count: number, resetAt: number }>()

  function live (key: string) {
    const entry = counters.get(key)
    if (entry && entry.resetAt <= clock.now()) {
      counters.delete(key)
      return undefined
    }
    return entry
  }

  function liveOrNew (key: string, now: number, windowMs: number) {
    let entry = live(key)
    if (!entry) {
      if (counters.size >= maxKeys) counters.delete(counters.keys().next().value as string)
      entry = { count: 0, resetAt: now + windowMs }
      counters.set(key, entry)
    }
    return entry
  }

  return {
    async increment (key, windowMs) {
      const now = clock.now()
      const entry = liveOrNew(key, now, windowMs)
      entry.count++
      return { count: entry.count, ttl: entry.resetAt - now }
    },
    async incrementSliding (key, windowMs) {
      const now = clock.now()
      const entry = liveOrNew(key, now, windowMs)
      entry.count++
      entry.resetAt = now + windowMs
      // Re-inserting keeps the eviction order "least recently touched first" for sliding counters.
      counters.delete(key)
      counters.set(key, entry)
      return { count: entry.count, ttl: windowMs }
    },
    async get (key) {
      const entry = live(key)
      return entry ? { count: entry.count, ttl: entry.resetAt - clock.now() } : { count: 0, ttl: 0 }
    },
    async reset (key) {
      counters.delete(key)
    },
    async close () {
      counters.clear()
    }
  }
}
