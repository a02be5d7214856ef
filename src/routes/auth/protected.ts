import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Services } from '../../services/index.js'
import { errors, NewPassword } from '../../schemas/common.js'

/** Routes behind the verify hook. The hook is added to this scope only (see app.ts), never matched by URL. */
export const protectedAuthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const security = [{ bearerAuth: [] }]

  app.get('/auth/me', {
    schema: {
      tags: ['auth'],
      summary: 'The user of the access token, from its claims alone (no database read)',
      security,
      response: { 200: Type.Object({ user: Type.Ref('User') }), ...errors(401) }
    }
  }, async (request) => {
    const { id, username, roles } = request.user
    return { user: { id, username, roles } }
  })

  app.post('/auth/password', {
    schema: {
      tags: ['auth'],
      summary: 'Change the password; every session of the user ends',
      security,
      body: Type.Object({ current_password: Type.String({ maxLength: 1024 }), new_password: NewPassword }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errors(400, 401, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    await services.accounts.changePassword(request.user.id, request.body.current_password, request.body.new_password, request.ip)
    return await reply.code(204).send(null)
  })

  app.post('/auth/logout-all', {
    schema: {
      tags: ['auth'],
      summary: 'End every session of the user',
      security,
      response: { 204: Type.Null(), ...errors(401, 503) }
    }
  }, async (request, reply) => {
    await services.sessions.endAll(request.user.id, 'logout-all')
    return await reply.code(204).send(null)
  })
}
