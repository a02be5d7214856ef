import t from 'tap'
import type { App } from '../../src/app.js'
import { bearer, buildTestApp, frozenClock, login, PASSWORD, registerAndLogin } from '../helper.js'
import { postRefresh } from './fixtures/sessions.js'

const NEW_PASSWORD = 'a brand new passphrase'

async function changePassword (app: App, accessToken: string, body: Record<string, unknown>) {
  return await app.inject({ method: 'POST', url: '/auth/password', headers: bearer(accessToken), payload: body })
}

async function loginStatus (app: App, password: string) {
  return (await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password } })).statusCode
}

t.test('a wrong current password is 401 INVALID_CREDENTIALS and changes nothing', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const response = await changePassword(app, tokens.access_token, { current_password: 'not my password', new_password: NEW_PASSWORD })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'INVALID_CREDENTIALS')
  t.ok(response.headers['www-authenticate'])
  t.equal(await loginStatus(app, NEW_PASSWORD), 401, 'the new password was not set')
  t.equal(await loginStatus(app, PASSWORD), 200, 'the old one still works')
  t.equal((await postRefresh(app, tokens.refresh_token)).statusCode, 200, 'the session lives on')
})

t.test('a new password that is too short, or a malformed body, is 400 and changes nothing', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const bodies = [
    { current_password: PASSWORD },
    { new_password: NEW_PASSWORD },
    { current_password: PASSWORD, new_password: 12345678 },
    { current_password: PASSWORD, new_password: NEW_PASSWORD, username: 'mallory' }
  ]
  for (const body of bodies) {
    const response = await changePassword(app, tokens.access_token, body)
    t.equal(response.statusCode, 400, JSON.stringify(body))
    t.equal(response.json().code, 'VALIDATION_FAILED')
  }
  // Length is the password policy's rule (issue 8), with its own code.
  const short = await changePassword(app, tokens.access_token, { current_password: PASSWORD, new_password: 'short' })
  t.equal(short.statusCode, 400)
  t.equal(short.json().code, 'PASSWORD_TOO_SHORT')
  t.equal(await loginStatus(app, PASSWORD), 200, 'the password is unchanged')
  t.equal((await postRefresh(app, tokens.refresh_token)).statusCode, 200, 'the session lives on')
})

t.test('a password change needs a bearer token', async (t) => {
  const { app } = await buildTestApp(t)
  await registerAndLogin(app)
  const response = await app.inject({ method: 'POST', url: '/auth/password', payload: { current_password: PASSWORD, new_password: NEW_PASSWORD } })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'TOKEN_MISSING')
  t.equal(await loginStatus(app, PASSWORD), 200)
})

t.test('a password change replaces the password and ends every session of the user, and only theirs', async (t) => {
  const { app } = await buildTestApp(t)
  const laptop = await registerAndLogin(app, 'alice')
  const phone = await login(app, 'alice')
  const bob = await registerAndLogin(app, 'bob')

  const response = await changePassword(app, laptop.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD })
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')

  t.equal(await loginStatus(app, PASSWORD), 401, 'the old password no longer logs in')
  for (const tokens of [laptop, phone]) {
    const refused = await postRefresh(app, tokens.refresh_token)
    t.equal(refused.statusCode, 401)
    t.equal(refused.json().code, 'REFRESH_TOKEN_INVALID')
  }
  t.equal((await postRefresh(app, bob.refresh_token)).statusCode, 200, 'another user keeps their session')

  const fresh = await login(app, 'alice', NEW_PASSWORD)
  t.equal(fresh.user.id, laptop.user.id, 'the new password logs in')
  t.equal((await postRefresh(app, fresh.refresh_token)).statusCode, 200, 'and starts a working session')
})

t.test('access tokens issued before a password change keep working until they expire (stateless)', async (t) => {
  const clock = frozenClock()
  const { app, config } = await buildTestApp(t, {}, { clock })
  const tokens = await registerAndLogin(app)
  t.equal((await changePassword(app, tokens.access_token, { current_password: PASSWORD, new_password: NEW_PASSWORD })).statusCode, 204)

  const me = async () => await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })
  t.equal((await me()).statusCode, 200, 'still accepted right after the change')
  clock.advance((config.accessTokenTtl + config.clockSkew + 1) * 1000)
  const expired = await me()
  t.equal(expired.statusCode, 401, 'refused once it expires')
  t.equal(expired.json().code, 'TOKEN_EXPIRED')
})

t.test('guessing the current password is throttled like a login, per account and per address', async (t) => {
  const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' })
  const tokens = await registerAndLogin(app)
  const change = async (current: string) => await app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: bearer(tokens.access_token),
    payload: { current_password: current, new_password: 'another long passphrase' }
  })
  for (let i = 0; i < 3; i++) t.equal((await change(`wrong guess ${i}`)).statusCode, 401)
  const throttled = await change('wrong guess 3')
  t.equal(throttled.statusCode, 429, 'a stolen access token is not an unlimited password oracle')
  t.equal(throttled.json().code, 'TOO_MANY_REQUESTS')
  t.ok(Number(throttled.headers['retry-after']) >= 1, 'with Retry-After')
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'alice', password: 'wrong again' } })
  t.equal(login.statusCode, 429, 'the guesses count against the same account as logins')
})
