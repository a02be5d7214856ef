import t from 'tap'
import { bearer, buildTestApp, frozenClock, login, PASSWORD, registerAndLogin, type Tokens } from '../helper.js'

interface Feed {
  revoked_sessions: string[]
  user_not_before: Record<string, number>
  cursor: string
  has_more: boolean
  retain_seconds: number
}

function claims (token: Tokens) {
  return JSON.parse(Buffer.from(token.access_token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string, sub: string, iat: number }
}

t.test('GET /auth/revocations lists sessions ended by logout, with a short Cache-Control', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const other = await login(app)

  const empty = await app.inject({ method: 'GET', url: '/auth/revocations' })
  t.equal(empty.statusCode, 200)
  t.equal(empty.headers['cache-control'], 'public, max-age=5')
  t.same(empty.json<Feed>().revoked_sessions, [])

  await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: tokens.refresh_token } })
  const feed = (await app.inject({ method: 'GET', url: '/auth/revocations' })).json<Feed>()
  t.same(feed.revoked_sessions, [claims(tokens).sid], 'only the ended session')
  t.notOk(feed.revoked_sessions.includes(claims(other).sid))
  t.same(feed.user_not_before, {})
  t.equal(feed.retain_seconds, 900 + 30, 'access token lifetime plus clock skew')
})

t.test('logout-all and password change publish the user not-before and every session they ended', async (t) => {
  const { app } = await buildTestApp(t)
  const first = await registerAndLogin(app)
  const second = await login(app)
  const response = await app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(first.access_token) })
  t.equal(response.statusCode, 204)

  const feed = (await app.inject({ method: 'GET', url: '/auth/revocations' })).json<Feed>()
  t.same(new Set(feed.revoked_sessions), new Set([claims(first).sid, claims(second).sid]))
  t.equal(feed.user_not_before[first.user.id], Math.floor(Date.now() / 1000), 'not-before is now, in seconds')

  const third = await login(app)
  const change = await app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: bearer(third.access_token),
    payload: { current_password: PASSWORD, new_password: 'another long passphrase' }
  })
  t.equal(change.statusCode, 204)
  const after = (await app.inject({ method: 'GET', url: '/auth/revocations' })).json<Feed>()
  t.ok(after.revoked_sessions.includes(claims(third).sid), 'password change ends the session it came from')
})

t.test('entries drop out of the feed once every token they affect has expired', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { ACCESS_TOKEN_TTL: '60', CLOCK_SKEW: '10' }, { clock })
  const tokens = await registerAndLogin(app)
  await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: tokens.refresh_token } })

  clock.advance(69_000)
  t.same((await app.inject({ method: 'GET', url: '/auth/revocations' })).json<Feed>().revoked_sessions, [claims(tokens).sid],
    'still listed while the token is accepted within the skew')
  clock.advance(2_000)
  t.same((await app.inject({ method: 'GET', url: '/auth/revocations' })).json<Feed>().revoked_sessions, [])
})

t.test('polling with the cursor returns new entries and stops repeating settled ones', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, {}, { clock })
  const first = await registerAndLogin(app)
  await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: first.refresh_token } })
  const page1 = (await app.inject({ method: 'GET', url: '/auth/revocations' })).json<Feed>()
  t.same(page1.revoked_sessions, [claims(first).sid])

  clock.advance(120_000)
  const page2 = (await app.inject({ method: 'GET', url: `/auth/revocations?since=${page1.cursor}` })).json<Feed>()
  t.same(page2.revoked_sessions, [claims(first).sid], 'young entries are repeated once')
  t.not(page2.cursor, page1.cursor, 'the cursor moves past settled entries')

  const second = await login(app)
  await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: second.refresh_token } })
  const page3 = (await app.inject({ method: 'GET', url: `/auth/revocations?since=${page2.cursor}` })).json<Feed>()
  t.same(page3.revoked_sessions, [claims(second).sid], 'only what is new')
})

t.test('a malformed cursor is a 400 with a stable code', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/auth/revocations?since=abc' })
  t.equal(response.statusCode, 400)
  t.equal(response.json().code, 'VALIDATION_FAILED')
})

t.test('the discovery document points at the feed', async (t) => {
  const { app, config } = await buildTestApp(t)
  const metadata = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json()
  t.equal(metadata.revocation_feed_endpoint, `${config.issuer}/auth/revocations`)
})

t.test('Tessera\'s own verify hook refuses a logged-out session after the next refresh, without a database read per request', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const other = await login(app)
  await app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: tokens.refresh_token } })
  await app.revocations.refresh()

  const refused = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'TOKEN_INVALID')
  t.match(refused.headers['www-authenticate'], /error="invalid_token"/)
  const kept = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(other.access_token) })
  t.equal(kept.statusCode, 200, 'the other session of the same user still works')
})

t.test('after logout-all, tokens issued before it are refused and a new login works', async (t) => {
  const { app } = await buildTestApp(t)
  const old = await registerAndLogin(app)
  await app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(old.access_token) })
  const fresh = await login(app)
  await app.revocations.refresh()
  t.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(old.access_token) })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(fresh.access_token) })).statusCode, 200)
})

t.test('a restarted replica loads the revocations before its first request', async (t) => {
  const dir = t.testdir()
  const first = await buildTestApp(t, {}, { dir })
  const tokens = await registerAndLogin(first.app)
  await first.app.inject({ method: 'POST', url: '/auth/logout', payload: { refresh_token: tokens.refresh_token } })
  await first.app.close()

  const second = await buildTestApp(t, {}, { dir })
  t.equal((await second.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })).statusCode, 401)
})

t.test('REVOCATION_POLL_INTERVAL is validated', async (t) => {
  const { loadConfig } = await import('../../src/config.js')
  t.equal(loadConfig({}).revocationPollInterval, 5)
  t.throws(() => loadConfig({ REVOCATION_POLL_INTERVAL: '0' }), /REVOCATION_POLL_INTERVAL: must be at least 1/)
})
