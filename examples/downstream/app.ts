import Fastify, { type FastifyBaseLogger } from 'fastify'
// In your own project: import { createVerifier, tesseraVerify } from 'tessera/verify'
import { createVerifier, tesseraVerify, type VerifierOptions } from '../../src/verify/index.js'

export interface DownstreamOptions {
  /** Tessera's URL: its AUTH_ISSUER. Keys and the revocation feed are found through its discovery document. */
  issuer: string
  /** Tessera's AUTH_AUDIENCE. */
  audience: string
  revocations?: VerifierOptions['revocations']
  logger?: FastifyBaseLogger | boolean
}

/**
 * A back-end service that trusts Tessera's tokens without calling it per request: a public health check,
 * a route for any signed-in user and one for admins only.
 */
export async function buildDownstream ({ issuer, audience, revocations = true, logger = false }: DownstreamOptions) {
  const app = Fastify(typeof logger === 'boolean' ? { logger } : { loggerInstance: logger })
  const verifier = createVerifier({ issuer, audience, revocations, logger: app.log })
  app.addHook('onClose', async () => verifier.close())
  await app.register(tesseraVerify, { verifier, realm: 'reports' })

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/reports', { onRequest: [app.authenticate] }, async (request) => {
    return { owner: request.user.username, reports: [`${request.user.username}'s weekly report`] }
  })

  app.get('/admin/stats', { onRequest: [app.authenticate, app.requireRole('admin')] }, async () => {
    return { reports: 1 }
  })

  return app
}
