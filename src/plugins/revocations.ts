import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import { createRevocationCache, type RevocationCache } from '../services/revocations/cache.js'
import type { RevocationStore } from '../store/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Revoked sessions and user not-before times, refreshed from the store; the verify hook checks it. */
    revocations: RevocationCache
  }
}

export interface RevocationsOptions {
  store: RevocationStore
  clock: Clock
  /** Seconds between refreshes: the longest a logout takes to reach this replica's verify hook. */
  interval: number
}

async function revocationsPlugin (app: FastifyInstance, { store, clock, interval }: RevocationsOptions) {
  const cache = createRevocationCache({ store, clock })
  // Loaded before the first request: a restarted replica must not forget the logouts of the last minutes.
  await cache.refresh()

  let failing = false
  const refresh = () => {
    cache.refresh().then(() => {
      if (failing) app.log.info({ event: 'revocations_refreshed' }, 'revocation list refreshed again')
      failing = false
    }, (error: unknown) => {
      // Keep the last list: tokens revoked before the outage stay refused; the outage is logged once.
      if (!failing) app.log.warn({ err: error, event: 'revocations_refresh_failed' }, 'revocation list refresh failed; keeping the last list')
      failing = true
    })
  }
  const timer = setInterval(refresh, interval * 1000)
  timer.unref()
  app.addHook('onClose', async () => clearInterval(timer))
  app.decorate('revocations', cache)
}

export const revocations = fp(revocationsPlugin, { name: 'tessera-revocations' })
