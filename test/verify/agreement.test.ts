import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import t from 'tap'
import { createVerifier, type VerifyError } from '../../src/verify/index.js'
import { startTessera } from '../fixtures/live-tessera.js'
import { bearer } from '../helper.js'
import { recordingLogger } from './fixtures/local-issuer.js'

/**
 * The kit and Tessera's own hook share their rules (services/tokens/access-token.ts). This signs tokens with
 * Tessera's real key, good and subtly bad, and asks both: the answers must be the same, code for code.
 */
t.test('the kit and Tessera\'s verify hook give the same verdict on the same tokens', async (t) => {
  const tessera = await startTessera(t, { ACCESS_TOKEN_TTL: '600' })
  const key = tessera.app.services.keyring.signingKey()
  const verifier = createVerifier({ issuer: tessera.url, audience: 'api', maxLifetime: 600, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const now = Math.floor(Date.now() / 1000)

  const sign = async (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => await new SignJWT({
    iss: tessera.url, aud: 'api', sub: randomUUID(), iat: now, exp: now + 600, jti: randomUUID(), sid: randomUUID(), username: 'carol', roles: ['user'], ...claims
  }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey)

  const cases: Record<string, string> = {
    valid: await sign(),
    expired: await sign({ iat: now - 700, exp: now - 100 }),
    'within skew': await sign({ iat: now - 620, exp: now - 20 }),
    'too long a lifetime': await sign({ exp: now + 601 }),
    'iat in the future': await sign({ iat: now + 120, exp: now + 700 }),
    'wrong audience': await sign({ aud: 'other' }),
    'wrong issuer': await sign({ iss: 'http://127.0.0.1:1' }),
    'typ JWT': await sign({}, { typ: 'JWT' }),
    'no jti': await sign({ jti: undefined }),
    'roles as a string': await sign({ roles: 'admin' }),
    'username missing': await sign({ username: undefined }),
    'x5u header': await sign({}, { x5u: 'https://evil.example/cert' }),
    'unknown kid': await sign({}, { kid: 'nope' })
  }

  for (const [name, token] of Object.entries(cases)) {
    const atTessera = await tessera.app.inject({ method: 'GET', url: '/auth/me', headers: bearer(token) })
    const tesseraCode = atTessera.statusCode === 200 ? 'OK' : (atTessera.json() as { code: string }).code
    const kitCode = await verifier.verify(token).then(() => 'OK', (error: VerifyError) => error.code)
    t.equal(kitCode, tesseraCode, `${name}: kit ${kitCode}, Tessera ${tesseraCode}`)
  }
  t.equal(await verifier.verify(cases['valid']).then(() => 'OK'), 'OK', 'and the valid one really is valid')
})
