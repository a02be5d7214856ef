import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import * as source from '../../src/verify/index.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { name: string, exports: Record<string, { types: string, default: string }> }

t.test('package.json exports tessera/verify with types, built from src/verify/index.ts', async (t) => {
  const entry = pkg.exports['./verify']
  t.same(entry, { types: './dist/verify/index.d.ts', default: './dist/verify/index.js' })
  t.ok(pkg.exports['.'], 'the main export is kept')
  // tsconfig.build.json compiles src/ into dist/, so dist/verify/index.js is src/verify/index.ts.
  t.ok(existsSync(`${root}src/verify/index.ts`))
})

const built = existsSync(`${root}dist/verify/index.js`)

t.test('the built tessera/verify exports what the source does', { skip: built ? false : 'dist/ is not built (npm run build)' }, async (t) => {
  // Resolved through package.json "exports" by name, as a service depending on Tessera would.
  const exported = await import(`${pkg.name}/verify`) as Record<string, unknown>
  t.same(Object.keys(exported).sort(), Object.keys(source).sort())
})
