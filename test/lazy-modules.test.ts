import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

const root = fileURLToPath(new URL('..', import.meta.url))

/**
 * Packages loaded by a fresh process that builds the app with the given environment, then answers the given paths:
 * CommonJS ones, as listed in require.cache (ES modules imported from ES modules are not listed there).
 */
async function packagesLoaded (env: Record<string, string>, paths: string[] = []): Promise<Set<string>> {
  const script = `
    import { createRequire } from 'node:module'
    import { buildApp } from './src/app.js'
    import { loadConfig } from './src/config.js'
    import { createLogger } from './src/logger.js'
    const config = loadConfig(${JSON.stringify({ LOG_LEVEL: 'silent', ...env })})
    const app = await buildApp({ config, logger: createLogger('silent') })
    for (const path of ${JSON.stringify(paths)}) if ((await app.inject(path)).statusCode !== 200) throw new Error(path)
    const files = Object.keys(createRequire(import.meta.url).cache)
    await app.close()
    process.stdout.write(JSON.stringify(files))`
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root })
  const files = JSON.parse(stdout) as string[]
  return new Set(files.map((file) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? ''))
}

// Each of these cost megabytes of idle RSS (src/runtime.ts, bench/README.md): loaded only when used.
t.test('with the defaults, the Postgres and Redis drivers and the OpenAPI generator are not loaded', async (t) => {
  const dir = t.testdir()
  const loaded = await packagesLoaded({ DATABASE_URL: 'sqlite::memory:', KEYS_DIR: `${dir}/keys` })
  // better-sqlite3 12 on Node 20; on Node 22+ its Node-API build, installed as the alias better-sqlite3-napi (src/store/sqlite-driver.ts).
  t.ok(loaded.has('better-sqlite3') || loaded.has('better-sqlite3-napi'), 'the store driver in use is')
  for (const name of ['pg', 'ioredis', '@fastify/swagger', '@fastify/swagger-ui', 'yaml']) t.notOk(loaded.has(name), `${name} is not loaded`)
})

t.test('the OpenAPI generator and Swagger UI are loaded by the first request for them', async (t) => {
  const dir = t.testdir()
  const loaded = await packagesLoaded({ DATABASE_URL: 'sqlite::memory:', KEYS_DIR: `${dir}/keys` }, ['/openapi.json', '/docs/'])
  for (const name of ['@fastify/swagger', '@fastify/swagger-ui']) t.ok(loaded.has(name), `${name} is loaded`)
})
