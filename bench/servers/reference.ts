import fastifyJwt from '@fastify/jwt'
import { Type } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import { User } from '../../src/schemas/common.js'
import { serverEnv, userFromClaims } from './env.js'

/**
 * Scenario 3, the floor of this stack: the smallest Fastify + @fastify/jwt server that verifies the same tokens
 * with the same algorithm and public key (signature, alg, iss, aud, exp). It does not check typ, kid or the
 * claim types Tessera checks, and it has no request logging: whatever Tessera spends above this is its own.
 */
const { port, host, publicPem, alg, issuer, audience } = serverEnv()

const app = Fastify({ logger: false })
await app.register(fastifyJwt, {
  secret: { public: publicPem },
  verify: { algorithms: [alg as 'ES256'], allowedIss: issuer, allowedAud: audience }
})
app.addSchema(User)
app.get('/auth/me', {
  schema: { response: { 200: Type.Object({ user: Type.Ref('User') }) } },
  onRequest: async (request) => { await request.jwtVerify() }
  // request.user is typed by Tessera's own plugin (AuthUser); here it is the raw payload, as @fastify/jwt returns it.
}, async (request) => ({ user: userFromClaims(request.user as unknown as Record<string, unknown>) }))
app.get('/readyz', async () => ({ status: 'ready' }))
await app.listen({ port, host })
