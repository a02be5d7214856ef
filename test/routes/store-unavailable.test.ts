import pg from 'pg'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { bearer, buildTestApp, login, PASSWORD, register } from '../helper.js'
import { createTestDatabase, postgresAddress, postgresTestOptions, throughPort } from '../helpers/postgres.js'
import { createTcpProxy } from '../helpers/tcp-proxy.js'

/**
 * PostgreSQL taken away for real: the app reaches it through a TCP proxy the test closes (connections cut,
 * new ones refused) or freezes (connections open, nothing answers), with the production pool settings.
 */
const HANG = 30_000

async function timed (t: Test, label: string, request: () => Promise<{ statusCode: number, json (): any, headers: Record<string, unknown> }>) {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer within ${HANG} ms, the request hangs`)), HANG)
  })
  try {
    const response = await Promise.race([request(), hung])
    t.comment(`${label}: ${response.statusCode} in ${Math.round(performance.now() - started)} ms`)
    return response
  } finally {
    clearTimeout(timer)
  }
}

function expectStoreUnavailable (t: Test, label: string, response: { statusCode: number, json (): any, headers: Record<string, unknown> }) {
  t.equal(response.statusCode, 503, `${label}: 503`)
  t.equal(response.json().code, 'STORE_UNAVAILABLE', `${label}: STORE_UNAVAILABLE`)
  t.ok(Number(response.headers['retry-after']) > 0, `${label}: Retry-After`)
}

function storeRoutes (app: App, tokens: { refresh_token: string }) {
  return {
    register: () => app.inject({ method: 'POST', url: '/auth/register', payload: { username: `u${Math.random().toString(36).slice(2, 10)}`, password: PASSWORD } }),
    login: () => app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: PASSWORD } }),
    refresh: () => app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } }),
    logout: () => app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: tokens.refresh_token } })
  }
}

async function expectWorking (t: Test, app: App, label: string) {
  const tokens = await login(app)
  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refreshed.statusCode, 200, `${label}: refresh works`)
  const logout = await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: refreshed.json().refresh_token } })
  t.equal(logout.statusCode, 204, `${label}: logout works`)
  const created = await storeRoutes(app, tokens).register()
  t.equal(created.statusCode, 201, `${label}: register works`)
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, `${label}: ready`)
}

async function expectDegraded (t: Test, app: App, accessToken: string, refreshToken: string, mode: string) {
  const me = await timed(t, `${mode} /auth/me`, () => app.inject({ method: 'GET', url: '/auth/me', headers: bearer(accessToken) }))
  t.equal(me.statusCode, 200, '/auth/me needs no database')
  const jwks = await timed(t, `${mode} jwks`, () => app.inject({ method: 'GET', url: '/.well-known/jwks.json' }))
  t.equal(jwks.statusCode, 200, 'JWKS needs no database')
  t.ok(jwks.json().keys.length > 0)
  const routes = storeRoutes(app, { refresh_token: refreshToken })
  for (const [name, request] of Object.entries(routes)) {
    expectStoreUnavailable(t, name, await timed(t, `${mode} ${name}`, request))
  }
  const ready = await timed(t, `${mode} /readyz`, () => app.inject({ method: 'GET', url: '/readyz' }))
  t.equal(ready.statusCode, 503, '/readyz 503')
  t.match(ready.json().checks.store, /^unavailable/)
}

t.test('PostgreSQL unavailable, then back', await postgresTestOptions(t), async (t) => {
  const url = await createTestDatabase(t)
  const proxy = await createTcpProxy(t, postgresAddress())
  const { app } = await buildTestApp(t, { DATABASE_URL: throughPort(url, proxy.port) })
  await register(app, 'alice')
  const tokens = await login(app)
  await expectWorking(t, app, 'before')

  t.test('connections cut and refused: tokens still verify, store routes 503 at once, then recover', async (t) => {
    await proxy.close()
    await expectDegraded(t, app, tokens.access_token, tokens.refresh_token, 'refused')
    await proxy.open()
    await expectWorking(t, app, 'after reopening')
  })

  t.test('server hanging (connections open, no answer): store routes 503 after the pool timeouts, then recover', async (t) => {
    proxy.freeze()
    await expectDegraded(t, app, tokens.access_token, tokens.refresh_token, 'frozen')
    proxy.thaw()
    await expectWorking(t, app, 'after thawing')
  })

  async function terminateBackends (t: Test): Promise<void> {
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    try {
      const { rows } = await admin.query<{ terminated: boolean }>(
        'select pg_terminate_backend(pid) as terminated from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
      t.ok(rows.length > 0 && rows.every((row) => row.terminated), `the app's ${rows.length} connection(s) were terminated`)
    } finally {
      await admin.end()
    }
  }

  /** Logins until one works: a pooled connection that died unseen fails the one request that picks it up (503). */
  async function untilLoginWorks (t: Test) {
    const statuses: number[] = []
    for (let i = 0; i < 12 && statuses.at(-1) !== 200; i++) statuses.push((await storeRoutes(app, tokens).login()).statusCode)
    t.comment(`logins after the termination: ${statuses.join(', ')}`)
    t.equal(statuses.at(-1), 200, 'logins work again')
    t.ok(statuses.slice(0, -1).every((s) => s === 503), 'until then only 503s')
  }

  t.test('idle backends terminated by the server: the next requests 503 or work, never crash, then recovery', async (t) => {
    await terminateBackends(t)
    await untilLoginWorks(t)
    await expectWorking(t, app, 'after pg_terminate_backend')
  })

  t.test('backends terminated mid-traffic (a failover): 200 or 503, never a crash or 500, then recovery', async (t) => {
    const burst = Promise.all(Array.from({ length: 6 }, () => storeRoutes(app, tokens).login()))
    await terminateBackends(t)
    const statuses = (await burst).map((r) => r.statusCode)
    t.comment(`logins in flight during the termination: ${statuses.join(', ')}`)
    t.ok(statuses.every((s) => s === 200 || s === 503), 'each answered 200 or 503')
    await untilLoginWorks(t)
    await expectWorking(t, app, 'after a termination mid-traffic')
  })
})
