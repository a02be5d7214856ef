import t from 'tap'
import { createRedisCounterStore } from '../../../src/services/throttle/redis-counter-store.js'
import { rawRedis, REDIS_URL, redisTestOptions, redisTestPrefix } from '../../helpers/redis.js'

const MINUTE = 60_000

t.test('redis counter store', await redisTestOptions(t), async (t) => {
  t.test('counts failures in a window that the first failure starts', async (t) => {
    const prefix = redisTestPrefix(t)
    const counters = createRedisCounterStore({ url: REDIS_URL, prefix })
    t.teardown(() => counters.close())
    t.same(await counters.get('login:account:alice'), { count: 0, ttl: 0 })
    const first = await counters.increment('login:account:alice', MINUTE)
    t.equal(first.count, 1)
    t.ok(first.ttl > 0 && first.ttl <= MINUTE, `ttl ${first.ttl} is within the window`)
    const second = await counters.increment('login:account:alice', 10 * MINUTE)
    t.equal(second.count, 2)
    t.ok(second.ttl <= first.ttl, 'a later failure does not extend the window')
    const read = await counters.get('login:account:alice')
    t.equal(read.count, 2)
    t.ok(read.ttl > 0 && read.ttl <= first.ttl)
    const raw = rawRedis(t)
    t.equal(await raw.get(`${prefix}login:account:alice`), '2', 'the key carries the configured prefix')
    await counters.reset('login:account:alice')
    t.same(await counters.get('login:account:alice'), { count: 0, ttl: 0 })
    t.equal(await raw.exists(`${prefix}login:account:alice`), 0)
  })

  t.test('two stores with one prefix (two replicas) share counts; another prefix is another world', async (t) => {
    const prefix = redisTestPrefix(t)
    const replicaA = createRedisCounterStore({ url: REDIS_URL, prefix })
    const replicaB = createRedisCounterStore({ url: REDIS_URL, prefix })
    const other = createRedisCounterStore({ url: REDIS_URL, prefix: redisTestPrefix(t) })
    t.teardown(async () => { await Promise.all([replicaA.close(), replicaB.close(), other.close()]) })
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? replicaA : replicaB).increment('k', MINUTE)))
    t.same(results.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1), 'every increment is counted once')
    t.equal((await replicaA.get('k')).count, 20)
    t.equal((await replicaB.get('k')).count, 20)
    t.equal((await other.get('k')).count, 0)
  })

  t.test('a counter left without an expiry gets one on the next failure', async (t) => {
    const prefix = redisTestPrefix(t)
    const counters = createRedisCounterStore({ url: REDIS_URL, prefix })
    t.teardown(() => counters.close())
    const raw = rawRedis(t)
    await raw.set(`${prefix}stuck`, '7')
    const next = await counters.increment('stuck', MINUTE)
    t.equal(next.count, 8)
    const ttl = await raw.pttl(`${prefix}stuck`)
    t.ok(ttl > 0 && ttl <= MINUTE, `expiry set (${ttl} ms)`)
  })

  t.test('the window ends in Redis', async (t) => {
    const prefix = redisTestPrefix(t)
    const counters = createRedisCounterStore({ url: REDIS_URL, prefix })
    t.teardown(() => counters.close())
    await counters.increment('short', 5)
    // Redis keeps its own time; a frozen clock cannot move it, so wait for the 5 ms window to pass.
    let count = 1
    for (let i = 0; i < 200 && count !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      count = (await counters.get('short')).count
    }
    t.equal(count, 0)
  })
})
