import t from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp, PASSWORD, register, type TestApp } from '../helper.js'
import { rawRedis, redisAddress, redisTestOptions, redisTestPrefix } from '../helpers/redis.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

function attempt (app: App, username: string, password: string, remoteAddress: string) {
  return app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress })
}

async function failTimes (app: App, username: string, remoteAddress: string, times: number) {
  for (let i = 0; i < times; i++) {
    const response = await attempt(app, username, 'wrong password!', remoteAddress)
    if (response.statusCode !== 401) throw new Error(`expected 401, got ${response.statusCode} ${response.body}`)
  }
}

const events = (instance: TestApp, event: string) => instance.logs.filter((line) => JSON.parse(line).event === event)

/** Waits (bounded) until `instance` has talked to Redis again after an outage; only traffic makes it try. */
async function untilRestored (instance: TestApp) {
  const before = events(instance, 'throttle_shared_restored').length
  for (let i = 0; i < 100 && events(instance, 'throttle_shared_restored').length === before; i++) {
    await instance.app.services.counters.get('probe')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return events(instance, 'throttle_shared_restored').length
}

t.test('login throttling shared through Redis by two instances, surviving a Redis outage', await redisTestOptions(t), async (t) => {
  const proxy = await createTcpProxy(t, redisAddress())
  const prefix = redisTestPrefix(t)
  const env = { REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_PREFIX: prefix, LOGIN_MAX_FAILURES: '3' }
  const a = await buildTestApp(t, env)
  const b = await buildTestApp(t, env)
  await register(a.app, 'alice')

  t.test('failures on one instance throttle the account and the address on the other', async (t) => {
    await failTimes(a.app, 'mallory', '10.0.0.1', 3)
    const byAccount = await attempt(b.app, 'mallory', 'wrong password!', '10.0.0.2')
    t.equal(byAccount.statusCode, 429)
    t.equal(byAccount.json().code, 'TOO_MANY_REQUESTS')
    t.ok(Number(byAccount.headers['retry-after']) > 0, 'with Retry-After')
    const byAddress = await attempt(b.app, 'someone-else', 'wrong password!', '10.0.0.1')
    t.equal(byAddress.statusCode, 429, 'the address is throttled on the other instance too')
    // The throttle also keeps passes, the global ceiling and per-route limits there (issue 8); all under the prefix.
    const keys = await rawRedis(t).keys(`${prefix}*`)
    t.ok(keys.includes(`${prefix}login:account:mallory`) && keys.includes(`${prefix}login:address:10.0.0.1`), 'the counters live in Redis under REDIS_PREFIX')
    t.ok(keys.every((key) => key.startsWith(prefix)))
  })

  t.test('Redis gone: logins keep working, counting is per process, one warning', async (t) => {
    await proxy.close()
    const started = performance.now()
    const ok = await attempt(a.app, 'alice', PASSWORD, '10.0.0.3')
    t.comment(`login with Redis down took ${Math.round(performance.now() - started)} ms`)
    t.equal(ok.statusCode, 200, 'a right password still logs in')
    await failTimes(a.app, 'trudy', '10.0.0.4', 3)
    t.equal((await attempt(a.app, 'trudy', 'wrong password!', '10.0.0.4')).statusCode, 429, 'this process still throttles')
    t.equal((await attempt(b.app, 'trudy', 'wrong password!', '10.0.0.5')).statusCode, 401, 'the other does not know (per-process counting)')
    t.equal(events(a, 'throttle_shared_unavailable').length, 1, 'one warning on A for the whole outage')
    t.equal(events(b, 'throttle_shared_unavailable').length, 1, 'one warning on B')
  })

  t.test('Redis back: shared counting resumes by itself', async (t) => {
    await proxy.open()
    t.equal(await untilRestored(a), 1, 'A logged that Redis is back')
    t.equal(await untilRestored(b), 1, 'B logged that Redis is back')
    await failTimes(a.app, 'oscar', '10.0.0.6', 3)
    t.equal((await attempt(b.app, 'oscar', 'wrong password!', '10.0.0.7')).statusCode, 429)
    // Progressive delays (issue 8): one guess may get through if a second has passed, but the next must wait,
    // which only happens if the three failures counted in memory during the outage still count.
    const first = await attempt(a.app, 'trudy', 'wrong password!', '10.0.0.8')
    const second = first.statusCode === 429 ? first : await attempt(a.app, 'trudy', 'wrong password!', '10.0.0.8')
    t.equal(second.statusCode, 429, 'failures counted in memory during the outage still count')
  })

  t.test('Redis hanging (connections open, no answers): logins still answer, then sharing resumes', async (t) => {
    proxy.freeze()
    const started = performance.now()
    const ok = await attempt(a.app, 'alice', PASSWORD, '10.0.0.9')
    t.comment(`login with Redis hanging took ${Math.round(performance.now() - started)} ms (command timeout 500 ms)`)
    t.equal(ok.statusCode, 200, 'the login did not wait for Redis forever')
    t.equal(events(a, 'throttle_shared_unavailable').length, 2, 'a new outage, one more warning')
    proxy.thaw()
    t.equal(await untilRestored(a), 2, 'and it comes back again')
  })
})
