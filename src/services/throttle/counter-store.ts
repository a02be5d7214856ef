import type { Clock } from '../../clock.js'

export interface Count {
  count: number
  /** Milliseconds until the window of this counter ends. */
  ttl: number
}

/** Fixed-window failure counters. In memory for one process; a Redis implementation shares them across replicas. */
export interface CounterStore {
  increment (key: string, windowMs: number): Promise<Count>
  get (key: string): Promise<Count>
  /** Gives back one count within the current window (never below 0); no-op once the window has ended. */
  decrement (key: string): Promise<void>
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

  return {
    async increment (key, windowMs) {
      const now = clock.now()
      let entry = live(key)
      if (!entry) {
        if (counters.size >= maxKeys) counters.delete(counters.keys().next().value as string)
        entry = { count: 0, resetAt: now + windowMs }
        counters.set(key, entry)
      }
      entry.count++
      return { count: entry.count, ttl: entry.resetAt - now }
    },
    async get (key) {
      const entry = live(key)
      return entry ? { count: entry.count, ttl: entry.resetAt - clock.now() } : { count: 0, ttl: 0 }
    },
    async decrement (key) {
      const entry = live(key)
      if (entry && entry.count > 0) entry.count--
    },
    async reset (key) {
      counters.delete(key)
    },
    async close () {
      counters.clear()
    }
  }
}
