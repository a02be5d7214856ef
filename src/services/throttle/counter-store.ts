import type { Clock } from '../../clock.js'

export interface Count {
  count: number
  /** Milliseconds until the window of this counter ends. */
  ttl: number
}

/** Exponential spacing between increments: see `incrementSpaced`. */
export interface Spacing {
  /** Increments allowed back to back before any spacing applies. */
  free: number
  /** Spacing after the `free`-th increment; it doubles with each further one. */
  baseMs: number
  /** The spacing never grows past this. */
  maxMs: number
}

export interface SpacedCount {
  /** The count after the call (unchanged when refused). */
  count: number
  applied: boolean
  /** When refused: milliseconds until an increment would be applied; 0 when applied. */
  waitMs: number
}

/** The spacing `incrementSpaced` requires after `count` increments. */
export function spacingAfter (count: number, spacing: Spacing): number {
  if (count < spacing.free) return 0
  return Math.min(spacing.maxMs, spacing.baseMs * 2 ** Math.min(count - spacing.free, 30))
}

/** Fixed-window failure counters. In memory for one process; a Redis implementation shares them across replicas. */
export interface CounterStore {
  /** Adds one; a new counter lives `windowMs` from its first increment (a fixed window). */
  increment (key: string, windowMs: number): Promise<Count>
  /**
   * Adds one unless the previous increment was too recent, atomically (of parallel callers, only as many succeed
   * as the spacing allows). With `count` increments so far, the next one needs `spacing.free > count ? 0 :
   * min(spacing.maxMs, spacing.baseMs * 2^(count - spacing.free))` ms since the last one; without `spacing` it
   * always applies. An applied increment restarts the counter's life at `windowMs`, so the count is forgotten
   * `windowMs` after the last increment, and `windowMs - ttl` is the time since it. A refused call changes nothing.
   * Redis: one Lua script (GET, PTTL, compare, then INCR + PEXPIRE).
   */
  incrementSpaced (key: string, windowMs: number, spacing?: Spacing): Promise<SpacedCount>
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
    async incrementSpaced (key, windowMs, spacing) {
      const now = clock.now()
      const current = live(key)
      const count = current?.count ?? 0
      if (current && spacing && count > 0) {
        const waitMs = spacingAfter(count, spacing) - (windowMs - (current.resetAt - now))
        if (waitMs > 0) return { count, applied: false, waitMs }
      }
      const entry = liveOrNew(key, now, windowMs)
      entry.count++
      entry.resetAt = now + windowMs
      // Re-inserting keeps eviction "least recently counted first" for counters that slide.
      counters.delete(key)
      counters.set(key, entry)
      return { count: entry.count, applied: true, waitMs: 0 }
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
