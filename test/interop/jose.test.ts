import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import t from 'tap'
import { ALGORITHMS } from '../../src/config.js'
import { buildTestApp, registerAndLogin } from '../helper.js'

/**
 * A downstream service that knows nothing of Tessera but its JWKS URL: jose (another implementation than the
 * fast-jwt Tessera uses) fetches the keys over a real socket and must accept the access token as RFC 9068 describes it.
 */
for (const alg of ALGORITHMS) {
  t.test(`jose verifies a ${alg} access token against the served JWKS`, async (t) => {
    const { app, config } = await buildTestApp(t, { JWT_ALG: alg })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as AddressInfo
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`))
    const options = { issuer: config.issuer, audience: config.audience, algorithms: [alg], typ: 'at+jwt' }
    const tokens = await registerAndLogin(app)

    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, options)
    t.equal(protectedHeader.alg, alg)
    t.equal(protectedHeader.typ, 'at+jwt')
    t.type(protectedHeader.kid, 'string')
    t.equal(payload.sub, tokens.user.id)
    t.equal(payload['username'], 'alice')
    t.same(payload['roles'], ['user'])
    t.equal((payload.exp ?? 0) - (payload.iat ?? 0), tokens.expires_in, 'exp - iat is expires_in')

    // The same verifier refuses a tampered token, so the acceptance above really checked the signature.
    const [header, , signature] = tokens.access_token.split('.')
    const admin = Buffer.from(JSON.stringify({ ...payload, roles: ['admin'] })).toString('base64url')
    await t.rejects(jwtVerify(`${header}.${admin}.${signature}`, jwks, options), errors.JWSSignatureVerificationFailed)
    // ... and one expecting another algorithm, so the JWKS entry's alg is what it says.
    const otherAlg = ALGORITHMS.find((other) => other !== alg) ?? alg
    await t.rejects(jwtVerify(tokens.access_token, jwks, { ...options, algorithms: [otherAlg] }), errors.JOSEAlgNotAllowed)
  })
}
