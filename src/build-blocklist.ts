import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { bundledListFile, compileBlocklist, COMPILED_BLOCKLIST, COMPILED_HEADER } from './services/passwords/blocklist.js'

/**
 * `npm run build` step: compiles the bundled list of common passwords once, so the service loads it in
 * milliseconds instead of sorting a million lines at every start. Output: generated/common-passwords.txt.
 */
async function main () {
  const source = bundledListFile()
  // `npm start` and `npm run cli` build first: skip the work when the compiled file is current (same format, newer than its source).
  const [compiledAt, sourceAt] = await Promise.all([stat(COMPILED_BLOCKLIST).catch(() => undefined), stat(source)])
  if (compiledAt && compiledAt.mtimeMs >= sourceAt.mtimeMs && (await readFile(COMPILED_BLOCKLIST, 'latin1')).startsWith(COMPILED_HEADER)) return
  const started = performance.now()
  const compiled = compileBlocklist(await readFile(source, 'utf8'))
  await mkdir(dirname(COMPILED_BLOCKLIST), { recursive: true })
  await writeFile(COMPILED_BLOCKLIST, compiled)
  const entries = compiled.toString('latin1').split('\n').length - 2
  process.stdout.write(`password blocklist: ${entries} entries from ${source} -> ${COMPILED_BLOCKLIST} (${Math.round(performance.now() - started)} ms)\n`)
}

await main()
