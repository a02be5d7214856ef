import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createVerifier, expressAuthenticate, requireRole, type Middleware, type VerifyError } from '../../src/verify/index.js'
import { recordingLogger, signToken, startLocalIssuer } from './fixtures/local-issuer.js'

/** The smallest Connect: runs middleware in order, `next(error)` ends in a 500. What Express does, minus routing. */
function connect (...stack: Middleware[]) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const run = (index: number) => (error?: unknown) => {
      if (error !== undefined) {
        response.statusCode = 500
        response.end(JSON.stringify({ failed: String(error) }))
        return
      }
      const layer = stack[index]
      if (layer) layer(request, response, run(index + 1))
      else response.end(JSON.stringify({ user: (request as { user?: unknown }).user }))
    }
    run(0)()
  }
}

async function listen (t: Test, handler: ReturnType<typeof connect>) {
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => await new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

t.test('expressAuthenticate and requireRole behave like the Fastify plugin', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const verifier = createVerifier({ issuer, audience: 'api', logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const rejected: string[] = []
  const authenticate = expressAuthenticate(verifier, { realm: 'shop', onReject: (error: VerifyError) => rejected.push(error.reason ?? '') })
  const open = await listen(t, connect(authenticate))
  const admin = await listen(t, connect(authenticate, requireRole('admin')))

  const token = await signToken(key!, issuer, { claims: { sub: 'u-9' } })
  const ok = await fetch(open, { headers: { authorization: `Bearer ${token}` } })
  t.equal(ok.status, 200)
  t.match((await ok.json() as { user: unknown }).user, { id: 'u-9', roles: ['user'] })

  const missing = await fetch(open)
  t.equal(missing.status, 401)
  t.equal(missing.headers.get('www-authenticate'), 'Bearer realm="shop"')
  t.same(await missing.json(), { statusCode: 401, code: 'TOKEN_MISSING', error: 'Unauthorized', message: 'An access token is required' })

  const bad = await fetch(open, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } })
  t.equal(bad.status, 401)
  t.equal((await bad.json() as { code: string }).code, 'TOKEN_INVALID')
  t.ok(rejected.some((reason) => /signature/i.test(reason)), 'the internal reason reaches onReject, not the client')

  const forbidden = await fetch(admin, { headers: { authorization: `Bearer ${token}` } })
  t.equal(forbidden.status, 403)
  t.equal((await forbidden.json() as { code: string }).code, 'FORBIDDEN')
  const allowed = await fetch(admin, { headers: { authorization: `Bearer ${await signToken(key!, issuer, { claims: { roles: ['admin'] } })}` } })
  t.equal(allowed.status, 200)
})

t.test('errors that are not token failures go to next(error)', async (t) => {
  const verifier = { verify: async () => { throw new Error('boom') }, ready: async () => {}, close () {} }
  const url = await listen(t, connect(expressAuthenticate(verifier)))
  const response = await fetch(url, { headers: { authorization: 'Bearer a.b.c' } })
  t.equal(response.status, 500)
  t.same(await response.json(), { failed: 'Error: boom' })
})
