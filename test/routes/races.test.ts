import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp, login, PASSWORD, register } from '../helper.js'
import { createTestDatabase, postgresTestOptions } from '../helpers/postgres.js'

/**
 * Races through the real app: requests fired together with Promise.all, so the store (the unique index,
 * the conditional update) decides, not the order of requests. On PostgreSQL two app instances share one
 * database, as two replicas behind a load balancer do.
 */
interface Backend {
  name: string
  apps (t: Test, env?: Record<string, string>): Promise<App[]>
}

const sqlite: Backend = {
  name: 'sqlite',
  async apps (t, env = {}) {
    return [(await buildTestApp(t, env)).app]
  }
}

const postgres: Backend = {
  name: 'postgres',
  async apps (t, env = {}) {
    const DATABASE_URL = await createTestDatabase(t)
    const dir = t.testdir()
    const first = await buildTestApp(t, { ...env, DATABASE_URL }, { dir })
    const second = await buildTestApp(t, { ...env, DATABASE_URL }, { dir })
    return [first.app, second.app]
  }
}

const SPELLINGS = ['alice', 'Alice', 'ALICE', 'aLiCe', 'AlIcE', 'alicE', 'ａｌｉｃｅ', 'ALIce']

function refreshOn (apps: App[], token: string, count: number) {
  return Promise.all(Array.from({ length: count }, (_, i) =>
    apps[i % apps.length]!.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: token } })))
}

function races (t: Test, backend: Backend) {
  t.test('simultaneous registrations of one name in different letter cases: one 201, the rest 409', async (t) => {
    const apps = await backend.apps(t)
    const responses = await Promise.all(SPELLINGS.map((username, i) =>
      apps[i % apps.length]!.inject({ method: 'POST', url: '/auth/register', payload: { username, password: PASSWORD } })))
    const statuses = responses.map((r) => r.statusCode)
    t.equal(statuses.filter((s) => s === 201).length, 1, `one 201 (got ${statuses.join(', ')})`)
    t.equal(statuses.filter((s) => s === 409).length, SPELLINGS.length - 1, 'every other one 409')
    t.ok(responses.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'USERNAME_TAKEN'))
    const winner = SPELLINGS[statuses.indexOf(201)]!
    for (const app of apps) {
      const tokens = await login(app, 'ALICE')
      t.equal(tokens.user.username, winner, 'the one account logs in under any spelling, on every instance')
    }
  })

  t.test('simultaneous refreshes of one token with REFRESH_REUSE_GRACE=0: exactly one 200', async (t) => {
    const apps = await backend.apps(t, { REFRESH_REUSE_GRACE: '0' })
    await register(apps[0]!)
    const { refresh_token: token } = await login(apps[0]!)
    const responses = await refreshOn(apps, token, 10)
    const statuses = responses.map((r) => r.statusCode)
    t.equal(statuses.filter((s) => s === 200).length, 1, `one 200 (got ${statuses.join(', ')})`)
    t.ok(responses.filter((r) => r.statusCode !== 200).every((r) => r.statusCode === 401 && r.json().code === 'REFRESH_TOKEN_INVALID'),
      'the rest are 401 REFRESH_TOKEN_INVALID')
  })

  t.test('simultaneous refreshes of one token inside the grace window all get the one successor', async (t) => {
    const apps = await backend.apps(t)
    await register(apps[0]!)
    const { refresh_token: token } = await login(apps[0]!)
    const responses = await refreshOn(apps, token, 10)
    t.same(responses.map((r) => r.statusCode), Array(10).fill(200))
    const successors = new Set(responses.map((r) => r.json().refresh_token as string))
    t.equal(successors.size, 1, 'one successor')
    const [successor] = [...successors] as [string]
    t.not(successor, token)
    const next = await apps.at(-1)!.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: successor } })
    t.equal(next.statusCode, 200, 'the successor rotates on the other instance')
  })
}

t.test('sqlite', async (t) => races(t, sqlite))
t.test('postgres', await postgresTestOptions(t), async (t) => races(t, postgres))
