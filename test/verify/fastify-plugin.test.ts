import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { createVerifier, tesseraVerify } from '../../src/verify/index.js'
import { recordingLogger, signToken, startLocalIssuer } from './fixtures/local-issuer.js'

async function service (t: Test, issuer: string) {
  const app = Fastify()
  // The host's own error handler must not change what the kit answers.
  app.setErrorHandler(async (_error, _request, reply) => await reply.code(500).send({ oops: true }))
  await app.register(tesseraVerify, { issuer, audience: 'api', realm: 'orders', logger: recordingLogger().logger })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => ({ user: request.user }))
  app.get('/admin', { onRequest: [app.authenticate, app.requireRole('admin', 'ops')] }, async () => ({ ok: true }))
  app.get('/misordered', { onRequest: [app.requireRole('admin')] }, async () => ({ ok: true }))
  t.teardown(async () => await app.close())
  await app.ready()
  return app
}

t.test('authenticate sets request.user; failures are 401 in Tessera\'s shape with WWW-Authenticate', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const app = await service(t, issuer)
  t.equal(state.jwksFetches, 1, 'keys are loaded when the service starts')

  const ok = await app.inject({ url: '/me', headers: { authorization: `Bearer ${await signToken(key!, issuer, { claims: { sub: 'u-1' } })}` } })
  t.equal(ok.statusCode, 200)
  t.match(ok.json().user, { id: 'u-1', username: 'alice', roles: ['user'] })

  const missing = await app.inject({ url: '/me' })
  t.equal(missing.statusCode, 401)
  t.same(missing.json(), { statusCode: 401, code: 'TOKEN_MISSING', error: 'Unauthorized', message: 'An access token is required' })
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="orders"')

  const basic = await app.inject({ url: '/me', headers: { authorization: 'Basic YWxpY2U6cHc=' } })
  t.equal(basic.json().code, 'TOKEN_INVALID')

  const expired = await app.inject({ url: '/me', headers: { authorization: `Bearer ${await signToken(key!, issuer, { iat: 1_600_000_000 })}` } })
  t.equal(expired.statusCode, 401)
  t.equal(expired.json().code, 'TOKEN_EXPIRED')
  t.equal(expired.headers['www-authenticate'], 'Bearer realm="orders", error="invalid_token", error_description="The access token has expired"')
  t.equal(expired.headers['content-type'], 'application/json; charset=utf-8')
})

t.test('requireRole answers 403 FORBIDDEN unless one of the roles is present', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const app = await service(t, issuer)
  const as = async (roles: string[]) => await app.inject({ url: '/admin', headers: { authorization: `Bearer ${await signToken(key!, issuer, { claims: { roles } })}` } })

  const user = await as(['user'])
  t.equal(user.statusCode, 403)
  t.same(user.json(), { statusCode: 403, code: 'FORBIDDEN', error: 'Forbidden', message: 'The access token does not carry a required role' })
  t.match(user.headers['www-authenticate'], /error="insufficient_scope"/)
  t.equal((await as(['ops'])).statusCode, 200, 'any one role is enough')
  t.equal((await as(['user', 'admin'])).statusCode, 200)

  const misordered = await app.inject({ url: '/misordered' })
  t.equal(misordered.statusCode, 401, 'requireRole without authenticate fails closed')
})

t.test('a shared verifier is not closed by the plugin, and requireRole() without roles fails at start-up', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const verifier = createVerifier({ issuer, audience: 'api', logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const app = Fastify()
  await app.register(tesseraVerify, { verifier })
  t.throws(() => app.requireRole(), /one or more non-empty role names/)
  await app.close()
  t.equal((await verifier.verify(await signToken(state.keys[0]!, issuer))).username, 'alice')
})
