import { buildApp } from './app.js'
import { loadConfigOrExit } from './load-config.js'
import { createLogger } from './logger.js'
import { buildMetricsServer } from './metrics-server.js'
import { DOCS_PATH } from './plugins/openapi.js'
import { MissingKeyError } from './services/keys/keyring.js'

/** The only file that reads the environment and listens. */
async function main () {
  const config = loadConfigOrExit()

  const logger = createLogger(config.logLevel)
  let app
  try {
    app = await buildApp({ config, logger })
  } catch (error) {
    if (error instanceof MissingKeyError) {
      logger.fatal(error.message)
      process.stderr.write(`tessera: ${error.message}\n`)
      process.exit(1)
    }
    logger.fatal({ err: error }, 'start-up failed')
    process.exit(1)
  }

  const { services } = app
  // Replicas sharing KEYS_DIR converge on their own: each re-reads it on a timer and on SIGHUP.
  const keysTimer = setInterval(() => { void services.maintainKeys() }, config.keysReloadInterval * 1000)
  process.on('SIGHUP', () => {
    app.log.info('SIGHUP: re-reading KEYS_DIR')
    void services.maintainKeys()
  })
  const purge = () => services.purgeExpired().catch((error: unknown) => app.log.warn({ err: error }, 'purge failed; will retry'))
  const purgeTimer = setInterval(purge, 3_600_000)
  keysTimer.unref()
  purgeTimer.unref()
  await services.maintainKeys()
  void purge()

  // METRICS_PORT: a second listener with /metrics only; the API port then has no /metrics route (app.ts).
  const metricsServer = config.metricsPort === undefined ? undefined : buildMetricsServer({ metrics: app.metrics, logger })

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'closing: finishing in-flight requests')
    clearInterval(keysTimer)
    clearInterval(purgeTimer)
    // A request that never ends must not keep the process alive forever.
    setTimeout(() => {
      app.log.error('graceful close timed out; exiting')
      process.exit(1)
    }, 10_000).unref()
    Promise.all([app.close(), metricsServer?.close()]).then(() => process.exit(0), (error: unknown) => {
      app.log.error({ err: error }, 'error while closing')
      process.exit(1)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))

  const address = await app.listen({ port: config.port, host: config.host })
  const metricsUrl = metricsServer
    ? `${await metricsServer.listen({ port: config.metricsPort, host: config.host })}/metrics`
    : `${address}/metrics`
  const key = app.services.keyring.signingKey()
  app.log.info({
    url: address,
    docs: `${address}${DOCS_PATH}`,
    metrics: metricsUrl,
    store: app.services.store.kind,
    alg: config.alg,
    kid: key.kid,
    kids: app.services.keyring.list().map((k) => k.kid),
    issuer: config.issuer
  }, `tessera listening on ${address} (store ${app.services.store.kind}, ${config.alg}, kid ${key.kid}); docs at ${address}${DOCS_PATH}`)
}

await main()
