import t from 'tap'
import type { App } from '../../src/app.js'
import { bearer, buildTestApp, frozenClock, login, registerAndLogin } from '../helper.js'
import { postRefresh, refreshOk, UNKNOWN_REFRESH_TOKEN } from './fixtures/sessions.js'

async function logout (app: App, refreshToken: string) {
  return await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: refreshToken } })
}

async function logoutAll (app: App, headers: Record<string, string> = {}) {
  return await app.inject({ method: 'POST', url: '/auth/logout-all', headers })
}

t.test('logout ends the session of the refresh token: 204, and the token no longer refreshes', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const response = await logout(app, tokens.refresh_token)
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  const refused = await postRefresh(app, tokens.refresh_token)
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'REFRESH_TOKEN_INVALID')
})

t.test('logout ends only that session; other logins of the same user stay', async (t) => {
  const { app } = await buildTestApp(t)
  const laptop = await registerAndLogin(app)
  const phone = await login(app)
  t.equal((await logout(app, laptop.refresh_token)).statusCode, 204)
  t.equal((await postRefresh(app, phone.refresh_token)).statusCode, 200)
})

t.test('logout is idempotent: again, unknown, or not a refresh token at all is 204', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  t.equal((await logout(app, tokens.refresh_token)).statusCode, 204)
  t.equal((await logout(app, tokens.refresh_token)).statusCode, 204, 'already ended')
  t.equal((await logout(app, UNKNOWN_REFRESH_TOKEN)).statusCode, 204, 'never issued')
  t.equal((await logout(app, 'not a token')).statusCode, 204, 'wrong shape')

  const other = await login(app)
  t.equal((await logout(app, other.access_token)).statusCode, 204, 'an access token ends nothing')
  t.equal((await postRefresh(app, other.refresh_token)).statusCode, 200, 'the session is still alive')
})

t.test('logout with an already rotated token ends the session, and the grace window cannot bring it back', async (t) => {
  const { app } = await buildTestApp(t, {}, { clock: frozenClock() })
  const first = await registerAndLogin(app)
  const second = await refreshOk(app, first.refresh_token)
  t.equal((await logout(app, first.refresh_token)).statusCode, 204)
  t.equal((await postRefresh(app, second.refresh_token)).statusCode, 401, 'the current token died with its session')
  t.equal((await postRefresh(app, first.refresh_token)).statusCode, 401, 'a retry inside the grace window is refused')
})

t.test('a malformed logout body is 400 VALIDATION_FAILED', async (t) => {
  const { app } = await buildTestApp(t)
  for (const payload of [{}, { refresh_token: 7 }, { refresh_token: '' }, { refresh_token: UNKNOWN_REFRESH_TOKEN, all: true }]) {
    const response = await app.inject({ method: 'POST', url: '/auth/logout', payload })
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.equal(response.json().code, 'VALIDATION_FAILED')
  }
})

t.test('logout-all with a bearer token ends every session of the user and no one else\'s', async (t) => {
  const { app } = await buildTestApp(t)
  const laptop = await registerAndLogin(app, 'alice')
  const phone = await login(app, 'alice')
  const bob = await registerAndLogin(app, 'bob')

  const response = await logoutAll(app, bearer(phone.access_token))
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  for (const tokens of [laptop, phone]) {
    const refused = await postRefresh(app, tokens.refresh_token)
    t.equal(refused.statusCode, 401)
    t.equal(refused.json().code, 'REFRESH_TOKEN_INVALID')
  }
  t.equal((await postRefresh(app, bob.refresh_token)).statusCode, 200, 'another user keeps their session')
  t.equal((await refreshOk(app, (await login(app, 'alice')).refresh_token)).user.id, laptop.user.id, 'alice can log in again')

  const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(laptop.access_token) })
  t.equal(me.statusCode, 200, 'access tokens already issued stay valid until they expire (stateless)')
})

t.test('logout-all without a valid bearer token is 401 with a challenge', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const missing = await logoutAll(app)
  t.equal(missing.statusCode, 401)
  t.equal(missing.json().code, 'TOKEN_MISSING')
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="tessera"')
  const wrong = await logoutAll(app, bearer('not.a.jwt'))
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'TOKEN_INVALID')
  t.equal((await postRefresh(app, tokens.refresh_token)).statusCode, 200, 'nothing was ended')
})
