import t from 'tap'
import { buildTestApp, frozenClock, registerAndLogin } from '../helper.js'

// With no grace window any second use of a token is reuse, even within the same millisecond: the frozen
// clock makes "spent at" and "now" equal, which the race tests across replicas can hit by chance.
t.test('REFRESH_REUSE_GRACE=0: a second use of a token in the same millisecond is reuse, not a retry', async (t) => {
  const { app } = await buildTestApp(t, { REFRESH_REUSE_GRACE: '0' }, { clock: frozenClock() })
  const { refresh_token: token } = await registerAndLogin(app)
  const first = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: token } })
  t.equal(first.statusCode, 200)
  const second = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: token } })
  t.equal(second.statusCode, 401)
  t.equal(second.json().code, 'REFRESH_TOKEN_INVALID')
  const successor = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: first.json().refresh_token } })
  t.equal(successor.statusCode, 401, 'the reuse revoked the session, successor included')
})
