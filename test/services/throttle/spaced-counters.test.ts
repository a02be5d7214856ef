import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../../src/logger.js'
import { createMemoryCounterStore, type CounterStore, type Spacing } from '../../../src/services/throttle/counter-store.js'
import { createFallbackCounterStore } from '../../../src/services/throttle/fallback-counter-store.js'
import { createRedisCounterStore } from '../../../src/services/throttle/redis-counter-store.js'
import { frozenClock } from '../../helper.js'
import { rawRedis, REDIS_URL, redisTestOptions, redisTestPrefix } from '../../helpers/redis.js'

const WINDOW = 60_000
const SPACING: Spacing = { free: 3, baseMs: 1000, maxMs: 4000 }

t.test('memory store: free increments, then 1, 2, 4, 4 s apart; a refused call changes nothing', async (t) => {
  const clock = frozenClock()
  const counters = createMemoryCounterStore({ clock })
  for (let i = 1; i <= 3; i++) t.same(await counters.incrementSpaced('k', WINDOW, SPACING), { count: i, applied: true, waitMs: 0 })
  for (const gap of [1000, 2000, 4000, 4000]) {
    const refused = await counters.incrementSpaced('k', WINDOW, SPACING)
    t.same(refused, { count: refused.count, applied: false, waitMs: gap }, `next one ${gap} ms after the last`)
    clock.advance(gap - 1)
    t.equal((await counters.incrementSpaced('k', WINDOW, SPACING)).waitMs, 1, 'the refusal did not move the last increment')
    clock.advance(1)
    t.equal((await counters.incrementSpaced('k', WINDOW, SPACING)).applied, true)
  }
  t.equal((await counters.get('k')).ttl, WINDOW, 'an applied increment restarts the window')
  t.equal((await counters.incrementSpaced('k', WINDOW)).applied, true, 'without spacing it always applies')
})

t.test('memory store: the count is forgotten a window after the last increment, not the first', async (t) => {
  const clock = frozenClock()
  const counters = createMemoryCounterStore({ clock })
  await counters.incrementSpaced('k', WINDOW, SPACING)
  clock.advance(WINDOW - 1)
  t.equal((await counters.incrementSpaced('k', WINDOW, SPACING)).count, 2)
  clock.advance(WINDOW - 1)
  t.equal((await counters.get('k')).count, 2)
  clock.advance(1)
  t.equal((await counters.get('k')).count, 0)
})

t.test('memory store: of parallel calls only as many apply as the spacing allows', async (t) => {
  const counters = createMemoryCounterStore({ clock: frozenClock() })
  const results = await Promise.all(Array.from({ length: 12 }, async () => await counters.incrementSpaced('k', WINDOW, SPACING)))
  t.equal(results.filter((r) => r.applied).length, 3)
  t.equal((await counters.get('k')).count, 3)
})

function quietLog () {
  return createLogger('silent', new Writable({ write (_chunk, _encoding, callback) { callback() } }))
}

t.test('fallback store: failures counted in memory during an outage keep spacing attempts after it', async (t) => {
  const clock = frozenClock()
  let up = true
  const real = createMemoryCounterStore({ clock })
  const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A) => {
    if (!up) throw new Error('Connection is closed.')
    return await fn(...args)
  }
  const shared: CounterStore = {
    increment: guard(real.increment),
    incrementSpaced: guard(real.incrementSpaced),
    get: guard(real.get),
    decrement: guard(real.decrement),
    reset: guard(real.reset),
    close: real.close
  }
  const counters = createFallbackCounterStore({ shared, local: createMemoryCounterStore({ clock }), clock, log: quietLog(), retryIntervalMs: 100 })
  up = false
  for (let i = 0; i < 3; i++) t.equal((await counters.incrementSpaced('k', WINDOW, SPACING)).applied, true, 'counted locally')
  up = true
  clock.advance(100)
  const refused = await counters.incrementSpaced('k', WINDOW, SPACING)
  t.equal(refused.applied, false, 'the local count still spaces attempts, though Redis has none')
  t.equal((await real.get('k')).count, 0, 'and the shared store gave back the increment it had applied')
  clock.advance(refused.waitMs)
  t.equal((await counters.incrementSpaced('k', WINDOW, SPACING)).applied, true)
})

t.test('redis store: the same spacing, atomically across clients', await redisTestOptions(t), async (t) => {
  const prefix = redisTestPrefix(t)
  const replicaA = createRedisCounterStore({ url: REDIS_URL, prefix })
  const replicaB = createRedisCounterStore({ url: REDIS_URL, prefix })
  t.teardown(async () => { await Promise.all([replicaA.close(), replicaB.close()]) })
  // Redis keeps its own time, so the spacing here is short and the test waits for real.
  const spacing: Spacing = { free: 3, baseMs: 300, maxMs: 600 }
  const results = await Promise.all(Array.from({ length: 12 }, async (_, i) => await (i % 2 ? replicaA : replicaB).incrementSpaced('k', WINDOW, spacing)))
  t.equal(results.filter((r) => r.applied).length, 3, 'three of twelve parallel calls from two replicas apply')
  const refused = results.find((r) => !r.applied)
  t.ok(refused && refused.waitMs > 0 && refused.waitMs <= 300, `a refused call says how long to wait (${refused?.waitMs} ms)`)
  t.equal(await rawRedis(t).get(`${prefix}k`), '3', 'refused calls changed nothing')
  const ttl = await rawRedis(t).pttl(`${prefix}k`)
  t.ok(ttl > WINDOW - 5000 && ttl <= WINDOW, 'an applied increment restarts the window')

  await new Promise((resolve) => setTimeout(resolve, 320))
  t.equal((await replicaA.incrementSpaced('k', WINDOW, spacing)).applied, true, 'after the spacing, one more applies')
  const next = await replicaB.incrementSpaced('k', WINDOW, spacing)
  t.equal(next.applied, false)
  t.ok(next.waitMs > 300 && next.waitMs <= 600, `and the spacing doubled (${next.waitMs} ms)`)
  t.equal((await replicaA.incrementSpaced('k', WINDOW)).applied, true, 'without spacing it always applies')
})
