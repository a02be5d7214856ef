import { createRemoteJWKSet, jwtVerify } from 'jose'
import t from 'tap'
import { ALGORITHMS, liveToken } from './fixtures/live.js'

for (const alg of ALGORITHMS) {
  t.test(`jose verifies Tessera's ${alg} tokens against the live JWKS`, async (t) => {
    const { issuer, jwksUri, token, forged, user } = await liveToken(t, alg)
    const jwks = createRemoteJWKSet(new URL(jwksUri))
    const options = { issuer, audience: 'api', typ: 'at+jwt', algorithms: [alg], requiredClaims: ['sub', 'jti', 'sid'] }

    const { payload, protectedHeader } = await jwtVerify(token, jwks, options)
    t.equal(payload.sub, user.id)
    t.same(payload['roles'], user.roles)
    t.match(protectedHeader, { alg, typ: 'at+jwt', kid: /^[A-Za-z0-9_-]+$/ })

    await t.rejects(jwtVerify(forged, jwks, options), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
    await t.rejects(jwtVerify(token, jwks, { ...options, audience: 'another-api' }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  })
}
