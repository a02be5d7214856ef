import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { RUNTIME_ENV, RUNTIME_FLAGS, withRuntimeEnv, withRuntimeFlags } from '../src/runtime.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8')

t.test('every start path starts the server with the runtime settings (what the benchmark measures)', async (t) => {
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start'] ?? ''
  const dockerfile = read('Dockerfile')
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
  t.same(JSON.parse(cmd ?? '[]'), ['node', ...RUNTIME_FLAGS, 'dist/server.js'], 'Dockerfile CMD')
  t.equal(start.split(' node ')[1], `${RUNTIME_FLAGS.join(' ')} dist/server.js`, 'npm start: flags')
  for (const [name, value] of Object.entries(RUNTIME_ENV)) {
    t.match(dockerfile, new RegExp(`^\\s+${name}=${value}$`, 'm'), `Dockerfile ENV ${name}`)
    t.ok(start.startsWith(`${name}=\${${name}:-${value}} `), `npm start: ${name}, unless set`)
  }
  t.match(read('src/cluster.ts'), /withRuntimeFlags\(process\.execArgv\)/, 'cluster workers')
  t.match(read('bench/lib/tessera.ts'), /withRuntimeFlags\(nodeArgs\)/, 'the benchmark')
})

t.test('runtime settings are added unless already given', async (t) => {
  t.same(withRuntimeFlags([]), RUNTIME_FLAGS)
  t.same(withRuntimeFlags(['--cpu-prof']), ['--cpu-prof', ...RUNTIME_FLAGS])
  t.same(withRuntimeFlags(['--max_semi_space_size=8']), ['--max_semi_space_size=8'], 'the operator\'s own value wins')
  t.same(withRuntimeEnv({ PORT: '1' }), { ...RUNTIME_ENV, PORT: '1' })
  t.same(withRuntimeEnv({ MALLOC_ARENA_MAX: '4' }), { MALLOC_ARENA_MAX: '4' })
})
