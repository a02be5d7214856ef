import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { bearer, buildTestApp, frozenClock, login, registerAndLogin } from '../helper.js'
import { accessClaims, dumpDatabase, familyOf, postRefresh, refreshOk, UNKNOWN_REFRESH_TOKEN } from './fixtures/sessions.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

t.test('login starts a session: a 256-bit base64url refresh token that lives REFRESH_TOKEN_TTL', async (t) => {
  const { app } = await buildTestApp(t, { REFRESH_TOKEN_TTL: '7200' }, { clock: frozenClock() })
  const tokens = await registerAndLogin(app)
  t.match(tokens.refresh_token, /^[A-Za-z0-9_-]{43}$/)
  t.equal(Buffer.from(tokens.refresh_token, 'base64url').length, 32, '256 bits')
  t.equal(tokens.refresh_expires_in, 7200)
  t.not((await login(app)).refresh_token, tokens.refresh_token, 'every login gets its own token')
})

/** Positions where every token has the same character: a padded or partly fixed token has fewer random bits than it looks. */
function constantPositions (tokens: string[]): number[] {
  return [...Array(43).keys()].filter((i) => tokens.every((token) => token[i] === tokens[0]?.[i]))
}

t.test('refresh tokens are random in every character, whether from a login or a rotation', async (t) => {
  const { app } = await buildTestApp(t)
  const fromLogin = [(await registerAndLogin(app)).refresh_token]
  while (fromLogin.length < 8) fromLogin.push((await login(app)).refresh_token)
  const fromRotation: string[] = []
  for (const token of fromLogin) fromRotation.push((await refreshOk(app, token)).refresh_token)
  t.equal(new Set([...fromLogin, ...fromRotation]).size, 16)
  // For random tokens a position shared by all eight has odds of 43 * 64^-7 (16^-7 for the last character,
  // which carries 4 bits): under 1e-8.
  t.same(constantPositions(fromLogin), [], 'login tokens vary in every position')
  t.same(constantPositions(fromRotation), [], 'rotated tokens vary in every position')
})

t.test('the database holds a hash of the refresh token, never the token', async (t) => {
  const { app, dir } = await buildTestApp(t)
  const first = await registerAndLogin(app)
  const second = await refreshOk(app, first.refresh_token)

  const rows = dumpDatabase(dir)
  for (const token of [first.refresh_token, second.refresh_token]) {
    t.ok(rows.includes(sha256(token)), 'the hash is there (so the dump does see the tokens table)')
    t.notOk(rows.includes(token), 'the token text is not')
  }
  // Also the raw bytes, write-ahead log included: a column we did not think of would still show up.
  for (const file of ['auth.db', 'auth.db-wal'].map((name) => join(dir, name)).filter((file) => existsSync(file))) {
    const bytes = readFileSync(file)
    t.equal(bytes.indexOf(first.refresh_token), -1, `${file} does not contain the first token`)
    t.equal(bytes.indexOf(second.refresh_token), -1, `${file} does not contain the rotated token`)
  }
})

t.test('every access token of a session carries sid = the family id, across rotations', async (t) => {
  const { app } = await buildTestApp(t)
  const first = await registerAndLogin(app)
  const family = await familyOf(app, first.refresh_token)
  t.ok(family)
  t.equal(accessClaims(first.access_token)['sid'], family?.id)

  const second = await refreshOk(app, first.refresh_token)
  const third = await refreshOk(app, second.refresh_token)
  t.equal(accessClaims(second.access_token)['sid'], family?.id)
  t.equal(accessClaims(third.access_token)['sid'], family?.id)
  t.equal((await familyOf(app, third.refresh_token))?.id, family?.id, 'the rotated token stays in the family')

  const other = await login(app)
  const otherSid = accessClaims(other.access_token)['sid']
  t.not(otherSid, family?.id, 'a second login is a second session')
  t.equal(otherSid, (await familyOf(app, other.refresh_token))?.id)
})

t.test('POST /auth/refresh returns a new token response, no-store, and spends the old refresh token', async (t) => {
  const clock = frozenClock()
  const { app, config } = await buildTestApp(t, {}, { clock })
  const tokens = await registerAndLogin(app)

  const response = await postRefresh(app, tokens.refresh_token)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  const next = response.json()
  t.same(Object.keys(next).sort(), ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type', 'user'])
  t.equal(next.token_type, 'Bearer')
  t.equal(next.expires_in, config.accessTokenTtl)
  t.same(next.user, tokens.user)
  t.match(next.refresh_token, /^[A-Za-z0-9_-]{43}$/)
  t.not(next.refresh_token, tokens.refresh_token)
  t.not(next.access_token, tokens.access_token)

  const me = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(next.access_token) })
  t.equal(me.statusCode, 200, 'the new access token works')
  t.same(me.json().user, tokens.user)

  clock.advance((config.refreshReuseGrace + 1) * 1000)
  const again = await postRefresh(app, tokens.refresh_token)
  t.equal(again.statusCode, 401, 'the old refresh token is spent')
  t.equal(again.json().code, 'REFRESH_TOKEN_INVALID')
})

t.test('reuse of a spent token after the grace window revokes the whole family and logs a security event', async (t) => {
  const clock = frozenClock()
  const { app, config, logs } = await buildTestApp(t, {}, { clock })
  const first = await registerAndLogin(app)
  const second = await refreshOk(app, first.refresh_token)
  const family = await familyOf(app, first.refresh_token)

  clock.advance(config.refreshReuseGrace * 1000 + 1)
  const reuse = await postRefresh(app, first.refresh_token)
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json().code, 'REFRESH_TOKEN_INVALID')
  t.ok(reuse.headers['www-authenticate'], 'a 401 carries a challenge')

  const newest = await postRefresh(app, second.refresh_token)
  t.equal(newest.statusCode, 401, 'the newest refresh token dies with its family')
  t.equal(newest.json().code, 'REFRESH_TOKEN_INVALID')
  t.not((await familyOf(app, second.refresh_token))?.revokedAt, null)

  const events = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry['event'] === 'refresh_token_reuse')
  t.equal(events.length, 1, 'one security event')
  t.equal(events[0]?.['userId'], first.user.id)
  t.equal(events[0]?.['familyId'], family?.id)
  t.ok(Number(events[0]?.['level']) >= 40, 'logged at warn or above, where alerts look')
  for (const token of [first.refresh_token, second.refresh_token]) {
    t.notOk(logs.some((line) => line.includes(token)), 'no refresh token in the logs')
  }
})

t.test('grace window: a retry of the just-spent token gets the same successor', async (t) => {
  const clock = frozenClock()
  const { app, config } = await buildTestApp(t, {}, { clock })
  const first = await registerAndLogin(app)
  const second = await refreshOk(app, first.refresh_token)

  clock.advance(config.refreshReuseGrace * 1000 - 1)
  const retry = await refreshOk(app, first.refresh_token)
  t.equal(retry.refresh_token, second.refresh_token, 'the same successor, not a new branch of the family')
  t.equal(accessClaims(retry.access_token)['sid'], accessClaims(second.access_token)['sid'])
  t.equal((await familyOf(app, second.refresh_token))?.revokedAt, null, 'nothing was revoked')

  // Once the successor has been used, the old token is plain reuse, even inside the window.
  const third = await refreshOk(app, second.refresh_token)
  const replay = await postRefresh(app, first.refresh_token)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'REFRESH_TOKEN_INVALID')
  t.equal((await postRefresh(app, third.refresh_token)).statusCode, 401, 'the family is revoked')
})

t.test('REFRESH_REUSE_GRACE=0: any second use of a token is reuse, even in the same millisecond', async (t) => {
  const { app } = await buildTestApp(t, { REFRESH_REUSE_GRACE: '0' }, { clock: frozenClock() })
  const first = await registerAndLogin(app)
  const second = await refreshOk(app, first.refresh_token)
  t.equal((await postRefresh(app, first.refresh_token)).statusCode, 401)
  t.equal((await postRefresh(app, second.refresh_token)).statusCode, 401, 'the family is revoked')
})

t.test('an access token is never accepted as a refresh token', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const response = await postRefresh(app, tokens.access_token)
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'REFRESH_TOKEN_INVALID')
  t.ok(response.headers['www-authenticate'])
  t.equal((await postRefresh(app, tokens.refresh_token)).statusCode, 200, 'the session itself is unharmed')
})

t.test('a refresh token is never accepted as a bearer token', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  for (const url of ['/auth/me', '/auth/logout-all']) {
    const response = await app.inject({ method: url === '/auth/me' ? 'GET' : 'POST', url, headers: bearer(tokens.refresh_token) })
    t.equal(response.statusCode, 401, url)
    t.equal(response.json().code, 'TOKEN_INVALID', url)
    t.match(response.headers['www-authenticate'], /^Bearer .*error="invalid_token"/, url)
  }
  t.equal((await postRefresh(app, tokens.refresh_token)).statusCode, 200, 'logout-all did not run')
})

t.test('a malformed refresh body is 400 VALIDATION_FAILED', async (t) => {
  const { app } = await buildTestApp(t)
  const bodies: unknown[] = [{}, { refresh_token: 42 }, { refresh_token: '' }, { refresh_token: null },
    { refresh_token: UNKNOWN_REFRESH_TOKEN, extra: true }, [UNKNOWN_REFRESH_TOKEN], 'x'.repeat(43)]
  for (const payload of bodies) {
    const response = await app.inject({ method: 'POST', url: '/auth/refresh', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
    t.equal(response.statusCode, 400, JSON.stringify(payload))
    t.equal(response.json().code, 'VALIDATION_FAILED', JSON.stringify(payload))
  }
})

t.test('an unknown or mis-shaped refresh token is 401 REFRESH_TOKEN_INVALID', async (t) => {
  const { app } = await buildTestApp(t)
  for (const token of [UNKNOWN_REFRESH_TOKEN, 'not a token', 'x'.repeat(4096)]) {
    const response = await postRefresh(app, token)
    t.equal(response.statusCode, 401, token.slice(0, 20))
    t.equal(response.json().code, 'REFRESH_TOKEN_INVALID')
    t.equal(response.headers['www-authenticate'], 'Bearer realm="tessera"')
  }
})

t.test('a disabled user cannot refresh, and re-enabling does not bring the session back', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, {}, { clock })
  const tokens = await registerAndLogin(app)
  await app.services.store.users.setDisabled(tokens.user.id, true, clock.now())
  const refused = await postRefresh(app, tokens.refresh_token)
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'REFRESH_TOKEN_INVALID')

  await app.services.store.users.setDisabled(tokens.user.id, false, clock.now())
  t.equal((await postRefresh(app, tokens.refresh_token)).statusCode, 401, 'the session ended when the user was disabled')
  t.equal((await login(app)).user.id, tokens.user.id, 'a fresh login works again')
})
