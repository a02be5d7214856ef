import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../config.js'
import type { Services } from '../services/index.js'

/** Discovery for verifiers: the JWKS (RFC 7517) and an RFC 8414-style metadata document pointing at it. */
export const wellKnownRoutes: FastifyPluginAsyncTypebox<{ services: Services, config: Config }> = async (app, { services, config }) => {
  const { jwksMaxAge } = config
  const Jwk = Type.Object({
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String())
  })

  app.get('/.well-known/jwks.json', {
    schema: {
      tags: ['discovery'],
      summary: 'Public keys that verify access tokens (never a private member)',
      response: { 200: Type.Object({ keys: Type.Array(Jwk) }) }
    }
  }, async (_request, reply) => {
    // The response schema also serializes only the listed public members: a private `d` could never leak.
    return await reply.header('cache-control', `public, max-age=${jwksMaxAge}`).send(services.keyring.jwks())
  })

  const metadata = {
    issuer: config.issuer,
    jwks_uri: `${config.issuer}/.well-known/jwks.json`,
    registration_endpoint: `${config.issuer}/auth/register`,
    token_endpoint: `${config.issuer}/auth/login`,
    revocation_endpoint: `${config.issuer}/auth/logout`,
    // Not RFC 8414: where verifiers poll revoked sessions (issue 5; read by tessera/verify).
    revocation_feed_endpoint: `${config.issuer}/auth/revocations`,
    userinfo_endpoint: `${config.issuer}/auth/me`,
    grant_types_supported: ['password', 'refresh_token'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [config.alg],
    access_token_signing_alg_values_supported: [config.alg],
    claims_supported: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'sid', 'username', 'roles']
  }

  app.get('/.well-known/openid-configuration', {
    schema: {
      tags: ['discovery'],
      summary: 'Discovery document: issuer and where its keys are',
      response: {
        200: Type.Object({ issuer: Type.String(), jwks_uri: Type.String() }, { additionalProperties: true })
      }
    }
  }, async (_request, reply) => {
    return await reply.header('cache-control', `public, max-age=${jwksMaxAge}`).send(metadata)
  })
}
