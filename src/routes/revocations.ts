import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { errors } from '../schemas/common.js'
import { readRevocationFeed } from '../services/revocations/feed.js'
import type { Services } from '../services/index.js'

/** Short enough that a cache in front of the feed adds at most a few seconds to a logout's reach. */
export const FEED_MAX_AGE = 5

const RevocationFeed = Type.Object({
  revoked_sessions: Type.Array(Type.String(), { description: 'sid claims whose tokens are refused' }),
  user_not_before: Type.Record(Type.String(), Type.Integer(), {
    description: 'user id (sub) -> seconds; that user\'s tokens with an earlier iat are refused'
  }),
  cursor: Type.String({ description: 'Opaque; pass it back as ?since= on the next poll' }),
  has_more: Type.Boolean({ description: 'More entries are waiting: poll again now' }),
  retain_seconds: Type.Integer({ description: 'Keep each entry at least this long after receiving it' })
})

/**
 * GET /auth/revocations: what verifiers that follow revocations must refuse (issue 5). Public like the
 * JWKS: it lists random ids (session ids and user ids), never names, tokens or reasons.
 */
export const revocationRoutes: FastifyPluginAsyncTypebox<{ services: Services, config: Config, clock: Clock }> = async (app, { services, config, clock }) => {
  app.get('/auth/revocations', {
    schema: {
      tags: ['discovery'],
      summary: 'Revoked sessions and user not-before times whose tokens could still be alive',
      querystring: Type.Object({
        // Opaque to clients; today a settled sequence number (see services/revocations/feed.ts).
        since: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description: 'cursor from the previous answer' }))
      }),
      response: { 200: RevocationFeed, ...errors(400, 503) }
    }
  }, async (request, reply) => {
    const page = await readRevocationFeed(services.store.revocations, {
      after: Number(request.query.since ?? 0),
      now: clock.now()
    })
    const sessions = new Set<string>()
    const users: Record<string, number> = {}
    for (const entry of page.entries) {
      if (entry.kind === 'session') sessions.add(entry.subject)
      else if (entry.notBefore !== null) users[entry.subject] = Math.max(entry.notBefore, users[entry.subject] ?? 0)
    }
    return await reply.header('cache-control', `public, max-age=${FEED_MAX_AGE}`).send({
      revoked_sessions: [...sessions],
      user_not_before: users,
      cursor: String(page.cursor),
      has_more: page.hasMore,
      // The longest a token can be accepted after its revocation was written: its lifetime plus the skew.
      retain_seconds: config.accessTokenTtl + config.clockSkew
    })
  })
}
