import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import type { App } from '../../src/app.js'
import { bearer, buildTestApp, login, PASSWORD, register, registerAndLogin } from '../helper.js'

const registerWith = async (app: App, username: string, password: unknown) =>
  await app.inject({ method: 'POST', url: '/auth/register', payload: { username, password } })

function assertRefused (t: Test, response: LightMyRequestResponse, code: string) {
  t.equal(response.statusCode, 400, `400 for ${code}`)
  const body = response.json<Record<string, unknown>>()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  t.equal(body['code'], code)
}

t.test('registration refuses short, common and username-based passwords, each with its own code', async (t) => {
  const { app } = await buildTestApp(t)
  const cases: Array<[string, string]> = [
    ['', 'PASSWORD_TOO_SHORT'],
    ['7 chars', 'PASSWORD_TOO_SHORT'],
    ['password123', 'PASSWORD_TOO_COMMON'],
    ['PassWord123', 'PASSWORD_TOO_COMMON'],
    ['qwertyuiop', 'PASSWORD_TOO_COMMON'],
    ['iloveyou2', 'PASSWORD_TOO_COMMON'],
    ['my alice password', 'PASSWORD_CONTAINS_USERNAME'],
    ['Summer-ALICE-2024', 'PASSWORD_CONTAINS_USERNAME'],
    ['ａｌｉｃｅ in wonderland', 'PASSWORD_CONTAINS_USERNAME']
  ]
  for (const [password, code] of cases) assertRefused(t, await registerWith(app, 'Alice', password), code)
  t.same(await app.services.store.users.list(), [], 'no account was created')
  t.equal((await registerWith(app, 'Alice', 'x'.repeat(1025))).json().code, 'VALIDATION_FAILED', 'the 1024 cap is still schema')
  t.equal((await registerWith(app, 'Alice', 12345678)).json().code, 'VALIDATION_FAILED', 'a number is not a password')
  t.equal((await registerWith(app, 'Alice', PASSWORD)).statusCode, 201, 'a passphrase goes through')
})

t.test('PASSWORD_MIN_LENGTH raises the minimum, counted in characters (code points), not UTF-16 units', async (t) => {
  const { app } = await buildTestApp(t, { PASSWORD_MIN_LENGTH: '12' })
  const short = await registerWith(app, 'bob', 'elevenchars')
  assertRefused(t, short, 'PASSWORD_TOO_SHORT')
  t.match(short.json().message, /at least 12 characters/)
  assertRefused(t, await registerWith(app, 'bob', 'zq9 wx7 \u{1F511}\u{1F511}\u{1F511}'), 'PASSWORD_TOO_SHORT')
  t.equal((await registerWith(app, 'bob', 'zq9 wx7 \u{1F511}\u{1F511}\u{1F511}\u{1F511}')).statusCode, 201, '12 characters, 16 UTF-16 units')
})

t.test('PASSWORD_MIN_LENGTH below 8 stops the start', async (t) => {
  await t.rejects(buildTestApp(t, { PASSWORD_MIN_LENGTH: '7' }), /PASSWORD_MIN_LENGTH: must be at least 8/)
})

t.test('PASSWORD_BLOCKLIST replaces the bundled list; a missing file stops the start', async (t) => {
  const dir = t.testdir({ 'ours.txt': 'tessera rocks\ncorrect horse battery staple\n' })
  const { app } = await buildTestApp(t, { PASSWORD_BLOCKLIST: join(dir, 'ours.txt') }, { dir })
  assertRefused(t, await registerWith(app, 'carol', 'Tessera Rocks'), 'PASSWORD_TOO_COMMON')
  assertRefused(t, await registerWith(app, 'carol', PASSWORD), 'PASSWORD_TOO_COMMON')
  t.equal((await registerWith(app, 'carol', 'password123')).statusCode, 201, 'only the configured list counts')
  await t.rejects(buildTestApp(t, { PASSWORD_BLOCKLIST: join(dir, 'nope.txt') }, { dir }), { code: 'ENOENT' })
})

t.test('a password change is held to the same policy and ends nothing when refused', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app, 'dave')
  for (const [newPassword, code] of [['short', 'PASSWORD_TOO_SHORT'], ['football1', 'PASSWORD_TOO_COMMON'], ['dave forever!', 'PASSWORD_CONTAINS_USERNAME']]) {
    const response = await app.inject({
      method: 'POST', url: '/auth/password', headers: bearer(tokens.access_token), payload: { current_password: PASSWORD, new_password: newPassword }
    })
    assertRefused(t, response, code as string)
  }
  const refresh = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: tokens.refresh_token } })
  t.equal(refresh.statusCode, 200, 'the session survived the refused changes')
  t.ok(await login(app, 'dave', PASSWORD), 'the old password still works')

  const ok = await app.inject({
    method: 'POST', url: '/auth/password', headers: bearer(tokens.access_token), payload: { current_password: PASSWORD, new_password: 'a much better passphrase' }
  })
  t.equal(ok.statusCode, 204)
})

t.test('login with an existing weak password works and says the password should be changed', async (t) => {
  const { app } = await buildTestApp(t)
  const user = await register(app, 'erin')
  // A password set before the policy existed (or before the list grew).
  await app.services.store.users.setPasswordHash(user.id, await app.services.hasher.hash('password123'), Date.now())
  const weak = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'erin', password: 'password123' } })
  t.equal(weak.statusCode, 200)
  t.equal(weak.json().password_change_recommended, true)
  t.type(weak.json().access_token, 'string')

  await app.services.store.users.setPasswordHash(user.id, await app.services.hasher.hash(PASSWORD), Date.now())
  const strong = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'erin', password: PASSWORD } })
  t.equal(strong.statusCode, 200)
  t.notOk('password_change_recommended' in strong.json(), 'absent, not false, for a good password')

  const refreshed = await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: weak.json().refresh_token } })
  t.notOk('password_change_recommended' in refreshed.json(), 'a refresh never carries it: no password was used')
})

t.test('raising PASSWORD_MIN_LENGTH keeps shorter existing passwords working, with the recommendation', async (t) => {
  const dir = t.testdir()
  const first = await buildTestApp(t, {}, { dir })
  await register(first.app, 'frank', 'zq9-wx7-yp')
  await first.app.close()
  const { app } = await buildTestApp(t, { PASSWORD_MIN_LENGTH: '16' }, { dir })
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'frank', password: 'zq9-wx7-yp' } })
  t.equal(response.statusCode, 200)
  t.equal(response.json().password_change_recommended, true)
})
