/**
 * tessera/verify: verify Tessera access tokens in your own service, with Tessera's rules, from its public
 * keys, and (optionally) its revocation feed. See docs/verifying.md.
 */
export { createVerifier, type Verifier } from './verifier.js'
export { VerifierOptionsError, type RevocationOptions, type VerifierOptions, type VerifyLogger } from './options.js'
export { VerifyError, type VerifyErrorCode } from './errors.js'
export { tesseraVerify, type TesseraVerifyOptions } from './fastify.js'
export { expressAuthenticate, requireRole, type AuthenticatedRequest, type Middleware, type MiddlewareOptions, type Next } from './express.js'
export type { AuthUser } from '../services/tokens/access-token.js'
