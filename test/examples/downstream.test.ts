import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { buildDownstream } from '../../examples/downstream/app.js'
import { startTessera } from '../fixtures/live-tessera.js'
import { bearer, login, PASSWORD, registerAndLogin } from '../helper.js'

/** Polls `probe` until it returns true: the feed is followed over real HTTP, so this waits on the network. */
async function eventually (probe: () => Promise<boolean>, { attempts = 100, every = 100 } = {}): Promise<boolean> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await probe()) return true
    await delay(every)
  }
  return false
}

t.test('a Tessera token opens the downstream service, logout closes it, roles are enforced', async (t) => {
  const tessera = await startTessera(t)
  const alice = await registerAndLogin(tessera.app)
  await tessera.app.services.accounts.register('root', PASSWORD, ['admin'])
  const root = await login(tessera.app, 'root')

  const downstream = await buildDownstream({ issuer: tessera.url, audience: 'api', revocations: { interval: 0.2 } })
  t.teardown(async () => await downstream.close())
  await downstream.ready()

  const reports = await downstream.inject({ method: 'GET', url: '/reports', headers: bearer(alice.access_token) })
  t.equal(reports.statusCode, 200)
  t.same(reports.json(), { owner: 'alice', reports: ['alice\'s weekly report'] })

  const anonymous = await downstream.inject({ method: 'GET', url: '/reports' })
  t.equal(anonymous.statusCode, 401)
  t.same(anonymous.json(), { statusCode: 401, code: 'TOKEN_MISSING', error: 'Unauthorized', message: 'An access token is required' })
  t.equal(anonymous.headers['www-authenticate'], 'Bearer realm="reports"')

  const forbidden = await downstream.inject({ method: 'GET', url: '/admin/stats', headers: bearer(alice.access_token) })
  t.equal(forbidden.statusCode, 403)
  t.equal(forbidden.json().code, 'FORBIDDEN')
  t.match(forbidden.headers['www-authenticate'], /error="insufficient_scope"/)
  const admin = await downstream.inject({ method: 'GET', url: '/admin/stats', headers: bearer(root.access_token) })
  t.equal(admin.statusCode, 200)

  const loggedOut = await tessera.app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: alice.refresh_token } })
  t.equal(loggedOut.statusCode, 204)
  let last = reports
  const refused = await eventually(async () => {
    last = await downstream.inject({ method: 'GET', url: '/reports', headers: bearer(alice.access_token) })
    return last.statusCode === 401
  })
  t.ok(refused, 'the logged-out token is refused within a few poll intervals')
  t.equal(last.json().code, 'TOKEN_INVALID')
  t.equal(last.json().message, 'The access token has been revoked')
  t.match(last.headers['www-authenticate'], /^Bearer realm="reports", error="invalid_token"/)

  const stillIn = await downstream.inject({ method: 'GET', url: '/admin/stats', headers: bearer(root.access_token) })
  t.equal(stillIn.statusCode, 200, 'other users are not affected')
})

t.test('logout-all at Tessera refuses every older token of the user downstream', async (t) => {
  const tessera = await startTessera(t)
  const first = await registerAndLogin(tessera.app)
  const second = await login(tessera.app)
  const downstream = await buildDownstream({ issuer: tessera.url, audience: 'api', revocations: { interval: 0.2 } })
  t.teardown(async () => await downstream.close())
  await downstream.ready()
  t.equal((await downstream.inject({ method: 'GET', url: '/reports', headers: bearer(second.access_token) })).statusCode, 200)

  await tessera.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(first.access_token) })
  const refused = await eventually(async () => {
    const [a, b] = await Promise.all([first, second].map(async (tokens) =>
      await downstream.inject({ method: 'GET', url: '/reports', headers: bearer(tokens.access_token) })))
    return a?.statusCode === 401 && b?.statusCode === 401
  })
  t.ok(refused, 'both sessions are refused')
  const fresh = await login(tessera.app)
  t.equal((await downstream.inject({ method: 'GET', url: '/reports', headers: bearer(fresh.access_token) })).statusCode, 200,
    'a login after the logout-all works')
})
