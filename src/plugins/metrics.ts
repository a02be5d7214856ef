import { Type } from 'typebox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Clock } from '../clock.js'
import { isAppError } from '../errors.js'
import type { Services } from '../services/index.js'
import type { Metrics } from '../services/metrics.js'

export const METRICS_PATH = '/metrics'

const TOKEN_CODES = new Set(['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED'])

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

export interface MetricsOptions {
  metrics: Metrics
  services: Services
  clock: Clock
  /** False when METRICS_PORT serves them on a listener of their own (see server.ts). */
  route: boolean
}

/**
 * Request, login, refresh, revocation and token metrics, through hooks and service events: nothing on the
 * request path but a counter and a histogram update. Registered before the routes so its hooks cover them all.
 */
async function registerMetrics (app: FastifyInstance, { metrics, services, clock, route }: MetricsOptions) {
  metrics.watch({ hasher: services.hasher, keyring: services.keyring, clock })
  app.decorate('metrics', metrics)

  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000)
  })
  // The verify hook throws AppErrors with the client-facing code and an internal reason (plugins/authenticate.ts).
  app.addHook('onError', async (_request, _reply, error) => {
    if (isAppError(error) && TOKEN_CODES.has(error.code)) metrics.tokenRejected(error.code, error.message, error.reason)
  })

  if (route) app.get(METRICS_PATH, { schema: metricsSchema }, async (_request, reply) => await metricsResponse(metrics, reply))
}

const metricsSchema = {
  tags: ['operations'],
  summary: 'Prometheus metrics (text exposition format); served on METRICS_PORT instead when that is set',
  produces: ['text/plain'],
  response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }) }
}

export async function metricsResponse (metrics: Metrics, reply: { type (contentType: string): { send (body: string): unknown } }) {
  return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
}

export const metricsPlugin = fp(registerMetrics, { name: 'tessera-metrics' })
