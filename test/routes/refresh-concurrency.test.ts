import t from 'tap'
import type { Test } from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp, frozenClock, registerAndLogin } from '../helper.js'
import { familyOf, interleavingStore, postRefresh, tokenRowsOfFamily } from './fixtures/sessions.js'

const PARALLEL = 20

async function refreshAtOnce (apps: App[], refreshToken: string) {
  return await Promise.all(Array.from({ length: PARALLEL }, (_, i) => postRefresh(apps[i % apps.length] as App, refreshToken)))
}

/** A replica on `dir` whose requests really interleave (see interleavingStore). */
async function replica (t: Test, dir: string, grace: string, clock: ReturnType<typeof frozenClock>, holdRotations?: Promise<void>) {
  const { store, rotations } = interleavingStore(dir, holdRotations)
  const { app } = await buildTestApp(t, { REFRESH_REUSE_GRACE: grace }, { clock, dir, store })
  return { app, rotations }
}

t.test('with REFRESH_REUSE_GRACE=0, 20 simultaneous refreshes: one wins, the rest are reuse and end the session', async (t) => {
  const dir = t.testdir()
  const { app, rotations } = await replica(t, dir, '0', frozenClock())
  const tokens = await registerAndLogin(app)
  const family = await familyOf(app, tokens.refresh_token)

  const responses = await refreshAtOnce([app], tokens.refresh_token)
  t.ok(rotations.length > 1, `the requests raced: ${rotations.length} tried to rotate`)
  t.equal(rotations.filter(Boolean).length, 1, 'the database let one rotation through')
  const winners = responses.filter((r) => r.statusCode === 200)
  t.equal(winners.length, 1, 'exactly one 200')
  t.same(responses.filter((r) => r.statusCode !== 200).map((r) => r.json().code), Array(PARALLEL - 1).fill('REFRESH_TOKEN_INVALID'))
  t.equal(tokenRowsOfFamily(dir, family?.id ?? '').length, 2, 'the first token and exactly one successor')

  // Without a grace window the losers are replays of a spent token: the session ends, the winner's token too.
  t.equal((await postRefresh(app, winners[0]?.json().refresh_token)).statusCode, 401)
  t.not((await familyOf(app, tokens.refresh_token))?.revokedAt, null)
})

t.test('with the default grace window, 20 simultaneous refreshes all get the one same successor', async (t) => {
  const dir = t.testdir()
  const { app, rotations } = await replica(t, dir, '10', frozenClock())
  const tokens = await registerAndLogin(app)
  const family = await familyOf(app, tokens.refresh_token)

  const responses = await refreshAtOnce([app], tokens.refresh_token)
  t.ok(rotations.length > 1, `the requests raced: ${rotations.length} tried to rotate`)
  t.same(responses.map((r) => r.statusCode), Array(PARALLEL).fill(200))
  const successors = new Set(responses.map((r) => r.json().refresh_token as string))
  t.equal(successors.size, 1, 'one successor, handed to every tab')
  t.equal(tokenRowsOfFamily(dir, family?.id ?? '').length, 2)

  const [successor] = [...successors]
  t.equal((await postRefresh(app, successor ?? '')).statusCode, 200, 'the successor works and the session lives on')
})

t.test('two replicas on one database refreshing one token at once produce at most one successor', async (t) => {
  for (const grace of ['0', '10']) {
    await t.test(`REFRESH_REUSE_GRACE=${grace}`, async (t) => {
      const dir = t.testdir()
      const clock = frozenClock()
      const one = await replica(t, dir, grace, clock)
      const two = await replica(t, dir, grace, clock)
      const tokens = await registerAndLogin(one.app)
      const family = await familyOf(one.app, tokens.refresh_token)

      const responses = await refreshAtOnce([one.app, two.app], tokens.refresh_token)
      t.ok(one.rotations.length > 0 && two.rotations.length > 0, 'both replicas tried to rotate')
      t.equal([...one.rotations, ...two.rotations].filter(Boolean).length, 1, 'one rotation went through, on one replica')
      const statuses = responses.map((r) => r.statusCode)
      t.ok(statuses.every((s) => s === 200 || s === 401), `only 200 or 401: ${statuses.join(' ')}`)
      const successors = new Set(responses.filter((r) => r.statusCode === 200).map((r) => r.json().refresh_token as string))
      t.equal(successors.size, 1, 'one successor')
      t.equal(tokenRowsOfFamily(dir, family?.id ?? '').length, 2, 'the database holds one successor')
      if (grace === '0') t.equal(statuses.filter((s) => s === 200).length, 1, 'without a grace window only the winner gets it')
      else t.equal(statuses.filter((s) => s === 200).length, PARALLEL, 'inside the grace window every caller gets it')
    })
  }
})

t.test('a logout racing a refresh wins: the refresh yields no new tokens', async (t) => {
  const dir = t.testdir()
  // The refresh reads the session, then its rotation waits until the logout has committed: the race made certain,
  // whatever the number of store calls either request makes.
  let loggedOut = () => {}
  const { app, rotations } = await replica(t, dir, '10', frozenClock(), new Promise<void>((resolve) => { loggedOut = resolve }))
  const tokens = await registerAndLogin(app)
  const [refreshed, logout] = await Promise.all([
    postRefresh(app, tokens.refresh_token),
    app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: tokens.refresh_token } }).finally(loggedOut)
  ])
  t.equal(logout.statusCode, 204)
  t.same(rotations, [false], 'the refresh read the session before the logout committed, and the database refused its rotation')
  t.equal(refreshed.statusCode, 401, 'so it answers 401 instead of handing out tokens of an ended session')
  t.equal(refreshed.json().code, 'REFRESH_TOKEN_INVALID')
})
