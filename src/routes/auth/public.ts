import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError } from '../../errors.js'
import type { Services } from '../../services/index.js'
import { errors, NewPassword, Password, Username } from '../../schemas/common.js'

/**
 * Routes that take no access token. They live outside the authenticated scope, so no hook can gate
 * them by mistake and none of them can skip one.
 */
export const publicAuthRoutes: FastifyPluginAsyncTypebox<{ services: Services, registration: 'open' | 'closed' }> = async (app, { services, registration }) => {
  const Credentials = Type.Object({ username: Username, password: Password }, { additionalProperties: false })
  const Registration = Type.Object({ username: Username, password: NewPassword }, { additionalProperties: false })
  const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false })

  app.post('/auth/register', {
    schema: {
      tags: ['auth'],
      summary: 'Create an account (roles are always ["user"])',
      body: Registration,
      response: { 201: Type.Object({ user: Type.Ref('User') }), ...errors(400, 403, 409, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    if (registration === 'closed') throw new AppError('REGISTRATION_CLOSED', 'Registration is closed')
    await services.limits.register.hit(request.ip)
    const user = await services.accounts.register(request.body.username, request.body.password)
    return await reply.code(201).send({ user })
  })

  app.post('/auth/login', {
    schema: {
      tags: ['auth'],
      summary: 'Exchange a username and password for tokens',
      body: Credentials,
      response: { 200: Type.Ref('TokenResponse'), ...errors(400, 401, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    const tokens = await services.accounts.login(request.body.username, request.body.password, request.ip)
    return await reply.header('cache-control', 'no-store').send(tokens)
  })

  app.post('/auth/refresh', {
    schema: {
      tags: ['auth'],
      summary: 'Rotate a refresh token: the old one is spent, a new pair is returned',
      body: RefreshBody,
      response: { 200: Type.Ref('TokenResponse'), ...errors(400, 401, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    await services.limits.refresh.hit(request.ip)
    const tokens = await services.sessions.refresh(request.body.refresh_token)
    return await reply.header('cache-control', 'no-store').send(tokens)
  })

  app.post('/auth/logout', {
    schema: {
      tags: ['auth'],
      summary: 'End the session of a refresh token (idempotent)',
      body: RefreshBody,
      response: { 204: Type.Null(), ...errors(400, 413, 415, 503) }
    }
  }, async (request, reply) => {
    await services.sessions.logout(request.body.refresh_token)
    return await reply.code(204).send(null)
  })
}
