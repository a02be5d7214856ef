import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../../clock.js'
import type { Count, CounterStore, SpacedCount } from './counter-store.js'

/**
 * Shared counters (Redis) that never break logins: while the shared store fails, counting goes on in this
 * process's memory, one warning is logged for the outage, and shared counting resumes on the first call
 * that succeeds again. After a failure the shared store is only retried every `retryIntervalMs`, so a
 * Redis that hangs costs one command timeout per interval, not one per login.
 *
 * Reads take the larger of the two counts: failures counted in memory during an outage still count when
 * Redis returns, so an outage is not a way to reset an attacker's window.
 */
export function createFallbackCounterStore ({ shared, local, clock, log, retryIntervalMs = 1000 }: {
  shared: CounterStore
  local: CounterStore
  clock: Clock
  log: FastifyBaseLogger
  retryIntervalMs?: number
}): CounterStore {
  let degraded = false
  let retryAt = 0

  async function attempt<T> (operation: () => Promise<T>): Promise<T | undefined> {
    if (degraded && clock.now() < retryAt) return undefined
    try {
      const result = await operation()
      if (degraded) {
        degraded = false
        log.info({ event: 'throttle_shared_restored' }, 'Redis answers again: login throttling is shared across replicas again')
      }
      return result
    } catch (error) {
      if (!degraded) {
        degraded = true
        log.warn({ event: 'throttle_shared_unavailable', reason: (error as Error).message },
          'Redis is unavailable: login throttling counts per process until it returns')
      }
      retryAt = clock.now() + retryIntervalMs
      return undefined
    }
  }

  const larger = (a: Count, b: Count) => (b.count > a.count ? b : a)

  return {
    async increment (key, windowMs) {
      return (await attempt(() => shared.increment(key, windowMs))) ?? await local.increment(key, windowMs)
    },
    /**
     * Counted in both stores, and the stricter answer wins: failures this process counted while Redis was away
     * keep spacing its attempts once Redis is back. A store that applied when the other refused gives its
     * count back, so a refused attempt counts nowhere.
     */
    async incrementSpaced (key, windowMs, spacing): Promise<SpacedCount> {
      const [fromShared, fromLocal] = await Promise.all([attempt(() => shared.incrementSpaced(key, windowMs, spacing)), local.incrementSpaced(key, windowMs, spacing)])
      if (!fromShared) return fromLocal
      if (fromShared.applied && !fromLocal.applied) {
        await attempt(() => shared.decrement(key))
        return fromLocal
      }
      if (!fromShared.applied && fromLocal.applied) await local.decrement(key)
      if (!fromShared.applied) return fromLocal.applied || fromShared.waitMs >= fromLocal.waitMs ? fromShared : fromLocal
      return fromLocal.count > fromShared.count ? fromLocal : fromShared
    },
    async get (key) {
      const [fromShared, fromLocal] = await Promise.all([attempt(() => shared.get(key)), local.get(key)])
      return fromShared ? larger(fromShared, fromLocal) : fromLocal
    },
    async decrement (key) {
      await Promise.all([attempt(() => shared.decrement(key)), local.decrement(key)])
    },
    async reset (key) {
      await Promise.all([attempt(() => shared.reset(key)), local.reset(key)])
    },
    async close () {
      await Promise.all([shared.close(), local.close()])
    }
  }
}
