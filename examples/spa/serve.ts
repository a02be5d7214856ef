import { readFile } from 'node:fs/promises'
import { createServer, type RequestListener, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildApp, type App } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'

/**
 * `npm run demo`: the demo app on its own origin (http://127.0.0.1:5173) and Tessera on another
 * (http://127.0.0.1:3000) with CORS_ORIGINS set to the app's origin, keys and database under ./data/demo.
 * The end-to-end test starts the same thing through startDemo().
 */

const here = fileURLToPath(new URL('.', import.meta.url))

/** The only files served: nothing else in this folder (serve.ts, README.md) leaves it. */
const FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/auth-client.js': 'auth-client.js',
  '/style.css': 'style.css'
}
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' }

export interface DemoOptions {
  host?: string
  /** Where the app is served; its origin is the one allowed by CORS_ORIGINS. 0 picks a free port. */
  spaPort?: number
  apiPort?: number
  /** More ports serving the same app, on origins NOT in CORS_ORIGINS (the browser must block their calls). */
  foreignPorts?: number[]
  dataDir?: string
  /** Extra Tessera configuration, e.g. ACCESS_TOKEN_TTL. */
  env?: Record<string, string>
  logLevel?: string
}

export interface Demo {
  spaUrl: string
  foreignUrls: string[]
  apiUrl: string
  app: App
  close (): Promise<void>
}

/**
 * A strict policy: scripts and styles from this origin only, and fetch() to this origin and the API.
 * The foreign origins get the same policy, so what stops their calls is CORS, not CSP.
 */
function securityHeaders (apiUrl: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${apiUrl}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store'
  }
}

function staticFiles (apiUrl: string): RequestListener {
  const headers = securityHeaders(apiUrl)
  return (request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/config.js') {
      response.writeHead(200, { ...headers, 'content-type': TYPES['js'] }).end(`export const API_BASE = ${JSON.stringify(apiUrl)}\n`)
      return
    }
    const file = FILES[path]
    if (file === undefined) {
      response.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    readFile(join(here, file)).then((body) => {
      response.writeHead(200, { ...headers, 'content-type': TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream' })
      response.end(request.method === 'HEAD' ? undefined : body)
    }, () => response.writeHead(500).end())
  }
}

async function listen (server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('unexpected server address')
  return `http://${host}:${address.port}`
}

async function close (server: Server) {
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

export async function startDemo ({
  host = '127.0.0.1', spaPort = 5173, apiPort = 3000, foreignPorts = [], dataDir = resolve('data', 'demo'), env = {}, logLevel = 'info'
}: DemoOptions = {}): Promise<Demo> {
  // The app's origin must be known before Tessera starts (CORS_ORIGINS), so its listener comes first.
  const spa = createServer()
  const spaUrl = await listen(spa, spaPort, host)
  const apiProbe = createServer()
  const apiUrl = await listen(apiProbe, apiPort, host)
  await close(apiProbe)

  const config = loadConfig({
    AUTH_ISSUER: apiUrl,
    KEYS_DIR: join(dataDir, 'keys'),
    DATABASE_URL: `sqlite:${join(dataDir, 'auth.db')}`,
    LOG_LEVEL: logLevel,
    ...env,
    HOST: host,
    PORT: apiUrl.split(':').pop() ?? '',
    CORS_ORIGINS: spaUrl
  })
  const app = await buildApp({ config, logger: createLogger(config.logLevel) })
  await app.listen({ port: config.port, host: config.host })

  const handler = staticFiles(apiUrl)
  spa.on('request', handler)
  const foreign = foreignPorts.map(() => createServer(handler))
  const foreignUrls = await Promise.all(foreign.map(async (server, i) => await listen(server, foreignPorts[i] ?? 0, host)))

  return {
    spaUrl,
    foreignUrls,
    apiUrl,
    app,
    async close () {
      await Promise.all([spa, ...foreign].map(close))
      await app.close()
    }
  }
}

async function main () {
  const demo = await startDemo({
    ...(process.env['SPA_PORT'] ? { spaPort: Number(process.env['SPA_PORT']) } : {}),
    ...(process.env['PORT'] ? { apiPort: Number(process.env['PORT']) } : {}),
    env: Object.fromEntries(['ACCESS_TOKEN_TTL', 'REFRESH_TOKEN_TTL', 'JWT_ALG'].flatMap((name) => process.env[name] ? [[name, process.env[name] as string]] : [])),
    logLevel: process.env['LOG_LEVEL'] ?? 'warn'
  })
  process.stdout.write(`Demo app:  ${demo.spaUrl}\nTessera:   ${demo.apiUrl} (CORS_ORIGINS=${demo.spaUrl}, docs at ${demo.apiUrl}/docs)\n` +
    'Keys and database: ./data/demo. Ctrl-C stops both.\n')
  const stop = () => { demo.close().then(() => process.exit(0), () => process.exit(1)) }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
