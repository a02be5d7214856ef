import { createPublicKey } from 'node:crypto'
import express, { type NextFunction, type Request, type Response } from 'express'
import { expressjwt, type Request as JwtRequest } from 'express-jwt'
import { serverEnv, userFromClaims } from './env.js'

/**
 * Scenario 4: Express 5 + express-jwt (jsonwebtoken underneath) verifying the same bearer tokens: signature,
 * alg, iss, aud, exp; no typ or claim-type checks. The key is parsed once (a KeyObject), which is the fastest
 * way to use it; Express defaults are kept (ETag, x-powered-by), as most deployments do.
 */
const { port, host, publicPem, alg, issuer, audience } = serverEnv()

const app = express()
app.get('/readyz', (_req, res) => { res.json({ status: 'ready' }) })
app.get('/auth/me',
  expressjwt({ secret: createPublicKey(publicPem), algorithms: [alg as 'ES256'], issuer, audience }),
  (req: JwtRequest, res: Response) => { res.json({ user: userFromClaims(req.auth ?? {}) }) })
app.use((error: { status?: number, code?: string }, _req: Request, res: Response, _next: NextFunction) => {
  res.status(error.status ?? 500).json({ code: error.code ?? 'ERROR' })
})
app.listen(port, host)
