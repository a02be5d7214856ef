import { randomUUID } from 'node:crypto'
import cors from '@fastify/cors'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, {
  LogController,
  type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault
} from 'fastify'
import { systemClock, type Clock } from './clock.js'
import type { Config } from './config.js'
import { authenticate } from './plugins/authenticate.js'
import { errorHandler } from './plugins/error-handler.js'
import { metricsPlugin } from './plugins/metrics.js'
import { openapi } from './plugins/openapi.js'
import { revocations } from './plugins/revocations.js'
import { protectedAuthRoutes } from './routes/auth/protected.js'
import { publicAuthRoutes } from './routes/auth/public.js'
import { healthRoutes } from './routes/health.js'
import { revocationRoutes } from './routes/revocations.js'
import { wellKnownRoutes } from './routes/well-known.js'
import { accessLogger } from './logger.js'
import { ErrorResponse, TokenResponse, User } from './schemas/common.js'
import { createServices, type Services } from './services/index.js'
import { createMetrics } from './services/metrics.js'
import type { Store } from './store/types.js'

export interface AppOptions {
  config: Config
  logger: FastifyBaseLogger
  clock?: Clock
  /** Defaults to the store named by `config.database`. */
  store?: Store
}

export const BODY_LIMIT = 16 * 1024

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

/**
 * Builds the whole service, ready but not listening. It reads nothing from `process.env`: everything comes
 * from `config`, so tests build exactly what production runs.
 */
export async function buildApp ({ config, logger, clock = systemClock, store }: AppOptions): Promise<App> {
  const app: App = Fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT,
    // A hop count is valid here (proxy-addr), though Fastify's types only list strings and booleans.
    trustProxy: (config.trustProxy ?? false) as string | boolean,
    // A client-chosen request id would let anyone forge log correlation; ours are random.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    // One access-log line per request (below) instead of Fastify's two: logging was the largest single cost of
    // GET /auth/me in the benchmark (bench/README.md), larger than the whole ceiling route.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: {
      customOptions: {
        // A number where a string belongs is a client bug to report (400), not to paper over.
        coerceTypes: false,
        removeAdditional: false
      }
    }
  }).withTypeProvider<TypeBoxTypeProvider>()

  const metrics = createMetrics()
  const services = await createServices({ config, log: app.log, clock, events: metrics.events, ...(store ? { store } : {}) })
  app.decorate('services', services)
  app.addHook('onClose', async () => await services.close())
  const accessLog = accessLogger(app.log)
  app.addHook('onResponse', (request, reply, done) => {
    accessLog.info({ reqId: request.id, req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime }, 'request completed')
    done()
  })

  // JSON only, on every route: Fastify's default text/plain parser would turn a wrong content type into a
  // confusing 400 (and text/plain is a CORS "simple" type that needs no preflight); without it the client gets 415.
  app.removeContentTypeParser('text/plain')

  app.addSchema(ErrorResponse)
  app.addSchema(User)
  app.addSchema(TokenResponse)

  await app.register(errorHandler)
  await app.register(openapi, { config })
  await app.register(metricsPlugin, { metrics, services, clock, route: config.metricsPort === undefined })
  await app.register(cors, {
    // Exact origins only: a look-alike (https://app.example.com.evil.test) or `null` never matches.
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    methods: ['GET', 'POST'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    credentials: false,
    maxAge: 600,
    strictPreflight: true
  })

  await app.register(healthRoutes, { services })
  await app.register(wellKnownRoutes, { services, config })
  await app.register(publicAuthRoutes, { services, registration: config.registration })
  await app.register(revocationRoutes, { services, config, clock })

  await app.register(revocations, { store: services.store.revocations, clock, interval: config.revocationPollInterval })
  await app.register(authenticate, { keyring: services.keyring, rules: services.rules, clock, checks: [app.revocations.check] })
  await app.register(async function protectedScope (scope) {
    scope.addHook('onRequest', scope.authenticate)
    await scope.register(protectedAuthRoutes, { services })
  })

  return app
}
