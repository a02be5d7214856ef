import t from 'tap'
import { buildTestApp, frozenClock, login, registerAndLogin } from '../helper.js'
import { familyOf, postRefresh, refreshOk, tokenRowsOfFamily } from './fixtures/sessions.js'

const TTL = 3600

t.test('a session ends REFRESH_TOKEN_TTL after login, however often it rotates', async (t) => {
  const clock = frozenClock()
  const loginAt = clock.now()
  const { app } = await buildTestApp(t, { REFRESH_TOKEN_TTL: String(TTL) }, { clock })
  let tokens = await registerAndLogin(app)
  const remaining = [tokens.refresh_expires_in]

  for (let i = 0; i < 5; i++) {
    clock.advance(700_000)
    tokens = await refreshOk(app, tokens.refresh_token)
    remaining.push(tokens.refresh_expires_in)
  }
  t.same(remaining, [3600, 2900, 2200, 1500, 800, 100], 'counts down from login, never extended by a rotation')
  t.equal((await familyOf(app, tokens.refresh_token))?.expiresAt, loginAt + TTL * 1000, 'the end is where login put it')

  clock.advance(99_000)
  tokens = await refreshOk(app, tokens.refresh_token)
  t.equal(tokens.refresh_expires_in, 1, 'still works one second before the end')

  clock.advance(1_000)
  const expired = await postRefresh(app, tokens.refresh_token)
  t.equal(expired.statusCode, 401, 'refused at REFRESH_TOKEN_TTL after login')
  t.equal(expired.json().code, 'REFRESH_TOKEN_INVALID')
  t.ok(expired.headers['www-authenticate'])
})

t.test('a new login after expiry starts a new full-length session', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { REFRESH_TOKEN_TTL: String(TTL) }, { clock })
  const first = await registerAndLogin(app)
  clock.advance(TTL * 1000)
  t.equal((await postRefresh(app, first.refresh_token)).statusCode, 401)
  const second = await login(app)
  t.equal(second.refresh_expires_in, TTL)
  t.equal((await refreshOk(app, second.refresh_token)).refresh_expires_in, TTL)
})

t.test('the store purges expired sessions with all their tokens and keeps live ones', async (t) => {
  const clock = frozenClock()
  const { app, dir } = await buildTestApp(t, { REFRESH_TOKEN_TTL: String(TTL) }, { clock })
  const old = await registerAndLogin(app)
  const rotated = await refreshOk(app, old.refresh_token)
  const oldFamily = (await familyOf(app, old.refresh_token))?.id ?? ''
  t.equal(tokenRowsOfFamily(dir, oldFamily).length, 2)
  clock.advance(TTL * 500)
  const young = await login(app)

  clock.advance(TTL * 500 + 1)
  t.equal(await app.services.store.sessions.purgeExpired(clock.now()), 1, 'one session purged')
  t.equal(tokenRowsOfFamily(dir, oldFamily).length, 0, 'its spent and live tokens are gone')
  t.equal(await familyOf(app, rotated.refresh_token), undefined)
  t.equal((await postRefresh(app, rotated.refresh_token)).statusCode, 401)
  t.equal((await refreshOk(app, young.refresh_token)).user.id, old.user.id, 'the live session is untouched')
})

t.test('the app-level purge (run by the server on a timer) removes expired sessions', async (t) => {
  const clock = frozenClock()
  const { app, dir } = await buildTestApp(t, { REFRESH_TOKEN_TTL: String(TTL) }, { clock })
  const tokens = await registerAndLogin(app)
  const family = (await familyOf(app, tokens.refresh_token))?.id ?? ''
  t.equal((await app.services.purgeExpired()).sessions, 0, 'nothing to purge while the session lives')
  clock.advance(TTL * 1000 + 1)
  t.equal((await app.services.purgeExpired()).sessions, 1)
  t.equal(tokenRowsOfFamily(dir, family).length, 0)
})
