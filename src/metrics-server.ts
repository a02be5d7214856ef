import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { METRICS_PATH, metricsResponse } from './plugins/metrics.js'
import type { Metrics } from './services/metrics.js'

/**
 * The listener for METRICS_PORT: /metrics and nothing else, so the scrape endpoint can stay on a port that
 * only the monitoring network reaches while the API port faces clients. Not listening; server.ts listens.
 */
export function buildMetricsServer ({ metrics, logger }: { metrics: Metrics, logger: FastifyBaseLogger }): FastifyInstance {
  const server = Fastify({
    loggerInstance: logger.child({ listener: 'metrics' }),
    // A scrape every few seconds would drown the request log.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true
  })
  server.get(METRICS_PATH, async (_request, reply) => await metricsResponse(metrics, reply))
  return server
}
