import t from 'tap'
import { bearer, buildTestApp, frozenClock, registerAndLogin } from '../helper.js'

t.test('GET /auth/me returns the user from the token claims', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const response = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { user: tokens.user })
})

t.test('GET /auth/me without a token is 401 TOKEN_MISSING with a bare Bearer challenge', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/auth/me' })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'TOKEN_MISSING')
  t.equal(response.headers['www-authenticate'], 'Bearer realm="tessera"')
})

t.test('GET /auth/me needs no database read: it answers from the token while the store is down', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  await app.services.store.close()
  const response = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { user: tokens.user })
})

t.test('the Bearer scheme name is case-insensitive (RFC 9110 §11.1)', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    const response = await app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: `${scheme} ${tokens.access_token}` } })
    t.equal(response.statusCode, 200, scheme)
  }
})

t.test('a token in the query string is never read', async (t) => {
  const { app } = await buildTestApp(t)
  const tokens = await registerAndLogin(app)
  const query = await app.inject({ method: 'GET', url: `/auth/me?access_token=${tokens.access_token}` })
  t.equal(query.statusCode, 401)
  t.equal(query.json().code, 'TOKEN_MISSING')
})

t.test('an expired token is 401 TOKEN_EXPIRED with error="invalid_token"', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, {}, { clock })
  const tokens = await registerAndLogin(app)
  clock.advance((tokens.expires_in + 31) * 1000)
  const response = await app.inject({ method: 'GET', url: '/auth/me', headers: bearer(tokens.access_token) })
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'TOKEN_EXPIRED')
  t.match(response.headers['www-authenticate'], /^Bearer realm="tessera", error="invalid_token"/)
})
