import jwt, { type GetPublicKeyOrSecret, type JwtPayload } from 'jsonwebtoken'
import jwksRsa from 'jwks-rsa'
import t from 'tap'
import { ALGORITHMS, liveToken } from './fixtures/live.js'

/** jsonwebtoken 9 knows HS*, RS*, PS* and ES*, not EdDSA (its README's algorithm table). */
const SUPPORTED = new Set<string>(['ES256', 'RS256'])

for (const alg of ALGORITHMS) {
  t.test(`jsonwebtoken with jwks-rsa verifies Tessera's ${alg} tokens against the live JWKS`,
    { skip: SUPPORTED.has(alg) ? false : `jsonwebtoken does not support ${alg}` }, async (t) => {
      const { issuer, jwksUri, token, forged, user } = await liveToken(t, alg)
      const client = jwksRsa({ jwksUri, cache: true, rateLimit: true, timeout: 5000 })
      const getKey: GetPublicKeyOrSecret = (header, callback) => {
        client.getSigningKey(header.kid).then((key) => callback(null, key.getPublicKey()), (error: Error) => callback(error))
      }
      const verify = async (candidate: string, audience = 'api') => await new Promise<JwtPayload>((resolve, reject) => {
        jwt.verify(candidate, getKey, { algorithms: [alg as jwt.Algorithm], issuer, audience, complete: false }, (error, payload) => {
          if (error) reject(error)
          else resolve(payload as JwtPayload)
        })
      })

      const payload = await verify(token)
      // jsonwebtoken does not check typ itself; a service using it should (RFC 9068 §4).
      t.equal(jwt.decode(token, { complete: true })?.header.typ, 'at+jwt')
      t.equal(payload.sub, user.id)
      t.same(payload['roles'], user.roles)
      await t.rejects(verify(forged), { name: 'JsonWebTokenError', message: 'invalid signature' })
      await t.rejects(verify(token, 'another-api'), { name: 'JsonWebTokenError', message: /audience invalid/ })
    })
}
