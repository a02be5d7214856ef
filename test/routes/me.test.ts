import t from 'tap'
import { bearer, buildTestApp, registerAndLogin } from '../helper.js'

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
