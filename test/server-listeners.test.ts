import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('..', import.meta.url))

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

t.test('server.ts: METRICS_PORT gets a listener of its own, and the start-up line names the docs and metrics URLs', async (t) => {
  const dir = t.testdir()
  const [port, metricsPort] = [await freePort(), await freePort()]
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'server.ts')], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      KEYS_DIR: join(dir, 'keys'),
      DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`,
      HASH_CONCURRENCY: '1'
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.teardown(() => { child.kill('SIGKILL') })

  let started: Record<string, unknown> | undefined
  for await (const line of createInterface({ input: child.stdout })) {
    const entry = JSON.parse(line) as Record<string, unknown>
    if (typeof entry['msg'] === 'string' && entry['msg'].startsWith('tessera listening')) {
      started = entry
      break
    }
  }
  if (!t.ok(started, 'the service started') || !started) return
  const url = `http://127.0.0.1:${port}`
  t.match(started, { url, docs: `${url}/docs`, metrics: `http://127.0.0.1:${metricsPort}/metrics`, store: 'sqlite', alg: 'ES256', kid: /^[\w-]{43}$/ })
  t.match(started['msg'], `docs at ${url}/docs`)

  t.equal((await fetch(`${url}/docs/`)).status, 200, '/docs is where the line says')
  t.equal((await fetch(`${url}/metrics`)).status, 404, 'the API port has no /metrics')
  const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
  t.equal(scraped.status, 200)
  t.match(await scraped.text(), /tessera_http_requests_total\{method="GET",route="\/docs",status_code="200"\} 1/, 'and counts the API port\'s requests')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM closes both listeners and exits 0')
})
