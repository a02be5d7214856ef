import { join } from 'node:path'
import t from 'tap'
import { createSqliteStore } from '../../src/store/sqlite.js'
import type { Store } from '../../src/store/types.js'
import { buildTestApp, frozenClock } from '../helper.js'

t.test('/healthz answers 200 while the process is alive', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok' })
})

t.test('/readyz answers 200 with its checks when store and keys are ready', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ready', checks: { store: 'ok', keys: 'ok' } })
})

t.test('/readyz answers 503 NOT_READY while the store does not answer, and 200 again once it does', async (t) => {
  const dir = t.testdir()
  const real = createSqliteStore(join(dir, 'auth.db'))
  let down = false
  const store: Store = {
    ...real,
    async ping () {
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
      await real.ping()
    }
  }
  const { app, logs } = await buildTestApp(t, {}, { dir, store })

  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  down = true
  const response = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(response.statusCode, 503)
  const body = response.json<{ statusCode: number, code: string, error: string, message: string, checks: Record<string, string> }>()
  t.equal(body.statusCode, 503)
  t.equal(body.code, 'NOT_READY')
  t.equal(body.error, 'Service Unavailable')
  t.match(body.message, /store/)
  t.equal(body.checks['store'], 'unavailable')
  t.equal(body.checks['keys'], 'ok')
  t.notMatch(response.body, /ECONNREFUSED|127\.0\.0\.1|5432/, 'no driver detail in the public body')
  t.ok(logs.some((line) => line.includes('"not ready"') && line.includes('ECONNREFUSED')), 'the detail is in the log')
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive even when not ready')

  down = false
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
})

t.test('/readyz answers 503 once the real store is closed', async (t) => {
  const { app } = await buildTestApp(t)
  await app.services.store.close()
  const response = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'NOT_READY')
  t.equal(response.json().checks.store, 'unavailable')
})

t.test('/readyz answers 503 when no key can sign yet', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, {}, { clock })
  // The generated key activates at start-up; a clock before that has no active key.
  clock.advance(-3600_000)
  const response = await app.inject({ method: 'GET', url: '/readyz' })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'NOT_READY')
  t.equal(response.json().checks.keys, 'no active signing key')
  t.equal(response.json().checks.store, 'ok')
})
