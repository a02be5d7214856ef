import t from 'tap'
import type { App } from '../../src/app.js'
import { bearer, buildTestApp, registerAndLogin } from '../helper.js'

const ALLOWED = 'https://app.example.com'
const REFUSED = [
  'https://app.example.com.evil.test',
  'https://evil.test',
  'null',
  'http://app.example.com',
  'https://app.example.com:8443',
  'https://evilapp.example.com',
  'https://sub.app.example.com'
]

const preflight = async (app: App, origin: string, url = '/auth/login') => await app.inject({
  method: 'OPTIONS',
  url,
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' }
})

const headerList = (value: string | string[] | number | undefined) =>
  String(value ?? '').split(',').map((item) => item.trim().toLowerCase()).filter(Boolean)

t.test('with CORS_ORIGINS=https://app.example.com', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: ALLOWED })
  const tokens = await registerAndLogin(app)

  t.test('a preflight from the origin allows Authorization and Content-Type, cacheably', async (t) => {
    for (const url of ['/auth/login', '/auth/me']) {
      const response = await preflight(app, ALLOWED, url)
      t.equal(response.statusCode, 204, url)
      t.equal(response.headers['access-control-allow-origin'], ALLOWED)
      const allowed = headerList(response.headers['access-control-allow-headers'])
      t.ok(allowed.includes('authorization'), 'Authorization is allowed')
      t.ok(allowed.includes('content-type'), 'Content-Type is allowed')
      t.ok(headerList(response.headers['access-control-allow-methods']).includes('post'))
      t.match(response.headers['access-control-max-age'], /^[1-9]\d*$/, 'the preflight can be cached')
      t.not(response.headers['access-control-allow-credentials'], 'true', 'no cookies: bearer tokens only')
    }
  })

  t.test('an actual request from the origin gets exactly that origin back', async (t) => {
    const me = await app.inject({ method: 'GET', url: '/auth/me', headers: { ...bearer(tokens.access_token), origin: ALLOWED } })
    t.equal(me.statusCode, 200)
    t.equal(me.headers['access-control-allow-origin'], ALLOWED)
    t.match(me.headers['vary'], /origin/i, 'caches keep answers per origin')

    const login = await app.inject({ method: 'POST', url: '/auth/login', headers: { origin: ALLOWED }, payload: { username: 'alice', password: 'wrong password!' } })
    t.equal(login.statusCode, 401)
    t.equal(login.headers['access-control-allow-origin'], ALLOWED, 'errors are readable by the app too')
    t.ok(headerList(login.headers['access-control-expose-headers']).includes('www-authenticate'), 'the app can read WWW-Authenticate')
    t.ok(headerList(login.headers['access-control-expose-headers']).includes('retry-after'), 'the app can read Retry-After')
  })

  for (const origin of REFUSED) {
    t.test(`origin ${origin} gets no Access-Control-Allow-Origin`, async (t) => {
      const pre = await preflight(app, origin)
      t.equal(pre.headers['access-control-allow-origin'], undefined, 'not on the preflight')
      const me = await app.inject({ method: 'GET', url: '/auth/me', headers: { ...bearer(tokens.access_token), origin } })
      t.equal(me.headers['access-control-allow-origin'], undefined, 'not on the actual request')
    })
  }
})

t.test('without CORS_ORIGINS no origin is allowed', async (t) => {
  const { app } = await buildTestApp(t)
  const pre = await preflight(app, ALLOWED)
  t.equal(pre.headers['access-control-allow-origin'], undefined)
  const health = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: ALLOWED } })
  t.equal(health.statusCode, 200)
  t.equal(health.headers['access-control-allow-origin'], undefined)
})

t.test('several origins: each is echoed alone, never as a list or a wildcard', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: 'https://app.example.com,http://localhost:5173' })
  for (const origin of ['https://app.example.com', 'http://localhost:5173']) {
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { origin } })
    t.equal(response.headers['access-control-allow-origin'], origin)
  }
  const other = await app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'http://localhost:5174' } })
  t.equal(other.headers['access-control-allow-origin'], undefined)
})
