import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { systemClock } from './clock.js'
import { loadConfigOrExit } from './load-config.js'
import { createLogger } from './logger.js'
import { withRuntimeEnv, withRuntimeFlags } from './runtime.js'
import { createKeyring, ensureSigningKey } from './services/keys/keyring.js'
import { createStore } from './store/index.js'

/**
 * One process per core (issue 6): `node dist/cluster.js` (or `npm run start:cluster`) forks WEB_CONCURRENCY
 * workers (default: one per core), each running server.js with the same environment. node:cluster shares the
 * listening socket; the primary hands each new connection to a worker in turn and serves no requests itself.
 * Node 20 has no `reusePort`, so cluster is the portable way to use every core.
 *
 * Things to know before using it:
 * - Each worker runs HASH_CONCURRENCY argon2 hashes at once: with N workers, set it so that N x HASH_CONCURRENCY
 *   leaves a core for the event loops (e.g. 4 cores, 2 workers: HASH_CONCURRENCY=1).
 * - Login throttling counts failures in each worker's memory unless REDIS_URL is set: without Redis a guesser
 *   gets up to N x LOGIN_MAX_FAILURES tries per window. Set REDIS_URL when WEB_CONCURRENCY > 1.
 * - The primary runs the migrations and creates the development key once before forking, so workers never race
 *   to migrate the same SQLite file or to generate two different keys.
 */

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

function workerCount (value: string | undefined): number {
  if (value === undefined || value.trim() === '') return availableParallelism()
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 256) {
    process.stderr.write(`tessera: WEB_CONCURRENCY: must be a whole number from 1 to 256, got "${value}"\n`)
    process.exit(1)
  }
  return n
}

/** Shared state every worker expects: the schema and a signing key. Done once, here, instead of N times at once. */
async function prepare () {
  const config = loadConfigOrExit()
  const log = createLogger(config.logLevel)
  const store = await createStore(config.database)
  try {
    await store.migrate()
  } finally {
    await store.close()
  }
  const keyringOptions = { dir: config.keysDir, alg: config.alg, clock: systemClock, log }
  await ensureSigningKey(await createKeyring(keyringOptions), { ...keyringOptions, production: config.production })
  return log
}

async function primary () {
  const count = workerCount(process.env['WEB_CONCURRENCY'])
  const log = await prepare()
  // Workers start the way server.js is always started (runtime.ts), however the primary itself was started.
  cluster.setupPrimary({ exec: fileURLToPath(new URL('./server.js', import.meta.url)), execArgv: withRuntimeFlags(process.execArgv) })
  const workerEnv = withRuntimeEnv(process.env)

  let closing = false
  const listening = new Set<Worker>()
  const fork = () => {
    const worker = cluster.fork(workerEnv)
    worker.once('listening', () => listening.add(worker))
  }

  cluster.on('exit', (worker, code, signal) => {
    const wasListening = listening.delete(worker)
    if (closing) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit()
      return
    }
    // A worker that dies before listening has a start-up problem (config, keys, store) that a restart will not fix.
    if (!wasListening) {
      log.fatal({ pid: worker.process.pid, code, signal }, 'worker failed to start; stopping')
      closing = true
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM')
      process.exitCode = 1
      return
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting a new one')
    fork()
  })

  for (const signal of SIGNALS) {
    process.on(signal, () => {
      // SIGHUP re-reads KEYS_DIR in every worker; the others close every worker gracefully (server.ts).
      if (signal !== 'SIGHUP') closing = true
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
    })
  }

  for (let i = 0; i < count; i++) fork()
  log.info({ workers: count }, `tessera cluster: ${count} worker processes`)
}

await primary()
