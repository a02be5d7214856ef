import t from 'tap'
import type { Test } from 'tap'
import { AppError } from '../../src/errors.js'
import { bearerChallenge } from '../../src/plugins/error-handler.js'
import { buildTestApp } from '../helper.js'

const SHAPE = ['code', 'error', 'message', 'statusCode']

/** The real app plus routes that fail in chosen ways, registered the way feature routes are. */
async function appWithFailures (t: Test) {
  const built = await buildTestApp(t)
  const { app } = built
  app.get('/test/crash', async () => {
    throw new Error('database password=s3cr3t-in-the-message exploded')
  })
  app.get('/test/store-down', async () => {
    throw new Error('query failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' }) })
  })
  app.get('/test/busy', async () => {
    throw new AppError('SERVER_BUSY', 'The server is busy; try again shortly', { retryAfter: 1, reason: 'hash queue full' })
  })
  app.get('/test/teapot', async () => {
    throw Object.assign(new Error('short and stout'), { statusCode: 418 })
  })
  return built
}

t.test('an unexpected error is a generic 500 that leaks nothing, logged with the request id', async (t) => {
  const { app, logs } = await appWithFailures(t)
  const response = await app.inject({ method: 'GET', url: '/test/crash' })
  t.equal(response.statusCode, 500)
  const body = response.json<Record<string, unknown>>()
  t.same(Object.keys(body).sort(), SHAPE)
  t.equal(body['code'], 'INTERNAL_ERROR')
  t.equal(body['error'], 'Internal Server Error')
  t.notMatch(response.body, /s3cr3t|exploded|database|stack|at /, 'no internal detail in the body')

  const logged = logs.map((line) => JSON.parse(line) as { level: number, reqId?: string, code?: string, err?: { message?: string } })
    .find((line) => line.code === 'INTERNAL_ERROR')
  t.ok(logged, 'the failure is logged')
  t.equal(logged?.level, 50, 'at error level')
  t.type(logged?.reqId, 'string')
  t.match(logged?.err?.message, /exploded/, 'with the real error, for the operator')
  t.match(String(body['message']), logged?.reqId ?? 'no request id', 'the client gets the request id to quote')
})

t.test('a store that does not answer is 503 STORE_UNAVAILABLE with Retry-After, not 500', async (t) => {
  const { app } = await appWithFailures(t)
  const response = await app.inject({ method: 'GET', url: '/test/store-down' })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'STORE_UNAVAILABLE')
  t.equal(response.headers['retry-after'], '2')
  t.notMatch(response.body, /10\.0\.0\.5|ECONNREFUSED/)
})

t.test('an AppError keeps its code, status and Retry-After; its reason stays in the log', async (t) => {
  const { app, logs } = await appWithFailures(t)
  const response = await app.inject({ method: 'GET', url: '/test/busy' })
  t.equal(response.statusCode, 503)
  t.same(response.json(), { statusCode: 503, code: 'SERVER_BUSY', error: 'Service Unavailable', message: 'The server is busy; try again shortly' })
  t.equal(response.headers['retry-after'], '1')
  t.notMatch(response.body, /hash queue/)
  t.ok(logs.some((line) => line.includes('hash queue full')))
})

t.test('another 4xx from a library stays a client error: 400 BAD_REQUEST in the same shape', async (t) => {
  const { app } = await appWithFailures(t)
  const response = await app.inject({ method: 'GET', url: '/test/teapot' })
  t.equal(response.statusCode, 400)
  t.same(Object.keys(response.json()).sort(), SHAPE)
  t.equal(response.json().code, 'BAD_REQUEST')
})

t.test('an unknown route is 404 NOT_FOUND without echoing the query string', async (t) => {
  const { app } = await buildTestApp(t)
  const response = await app.inject({ method: 'GET', url: '/auth/nothing-here?access_token=qs-secret-value' })
  t.equal(response.statusCode, 404)
  t.same(Object.keys(response.json()).sort(), SHAPE)
  t.equal(response.json().code, 'NOT_FOUND')
  t.notMatch(response.body, 'qs-secret-value')
  const wrongMethod = await app.inject({ method: 'DELETE', url: '/auth/login' })
  t.equal(wrongMethod.statusCode, 404)
  t.equal(wrongMethod.json().code, 'NOT_FOUND')
})

t.test('every 401 carries a WWW-Authenticate challenge (RFC 6750, RFC 9110 §15.5.2)', async (t) => {
  const { app } = await buildTestApp(t)
  const credentials = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'nobody', password: 'some password' } })
  t.equal(credentials.statusCode, 401)
  t.equal(credentials.headers['www-authenticate'], 'Bearer realm="tessera"')
  const missing = await app.inject({ method: 'GET', url: '/auth/me' })
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="tessera"', 'no credentials: the bare challenge')
  const invalid = await app.inject({ method: 'GET', url: '/auth/me', headers: { authorization: 'Bearer not.a.token' } })
  t.equal(invalid.statusCode, 401)
  t.match(invalid.headers['www-authenticate'], /^Bearer realm="tessera", error="invalid_token"/)
})

t.test('bearerChallenge', async (t) => {
  t.equal(bearerChallenge('TOKEN_MISSING'), 'Bearer realm="tessera"')
  t.equal(bearerChallenge('INVALID_CREDENTIALS'), 'Bearer realm="tessera"')
  t.equal(bearerChallenge('TOKEN_EXPIRED', 'The access token has expired'),
    'Bearer realm="tessera", error="invalid_token", error_description="The access token has expired"')
})
