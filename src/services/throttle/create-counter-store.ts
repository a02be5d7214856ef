import type { FastifyBaseLogger } from 'fastify'
import type { Clock } from '../../clock.js'
import { createMemoryCounterStore, type CounterStore } from './counter-store.js'
import { createFallbackCounterStore } from './fallback-counter-store.js'
import { createRedisCounterStore } from './redis-counter-store.js'

/** In memory for one process; with REDIS_URL, shared by every replica and falling back to memory while Redis is away. */
export function createCounterStore ({ redisUrl, redisPrefix, clock, log }: {
  redisUrl: string | undefined
  redisPrefix: string
  clock: Clock
  log: FastifyBaseLogger
}): CounterStore {
  const local = createMemoryCounterStore({ clock })
  if (redisUrl === undefined) return local
  return createFallbackCounterStore({ shared: createRedisCounterStore({ url: redisUrl, prefix: redisPrefix }), local, clock, log })
}
