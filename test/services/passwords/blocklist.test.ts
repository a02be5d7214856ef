import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import {
  bundledListFile, compileBlocklist, COMPILED_HEADER, defaultBlocklistFile, loadBlocklist
} from '../../../src/services/passwords/blocklist.js'

t.test('the bundled list has at least 100,000 entries, and the loaded list keeps every one of 8+ characters', async (t) => {
  const lines = (await readFile(bundledListFile(), 'utf8')).split('\n').filter((line) => line !== '')
  t.ok(lines.length >= 100_000, `${lines.length} passwords in the bundled source`)
  const eightPlus = new Set(lines.map((line) => line.normalize('NFKC').toLowerCase()).filter((line) => [...line].length >= 8))
  const list = await loadBlocklist(defaultBlocklistFile())
  t.equal(list.size, eightPlus.size, 'every distinct entry of 8 characters or more, nothing else')
  t.ok(list.size >= 100_000, `${list.size} entries loaded`)
  const sample = [...eightPlus].filter((_, i) => i % 997 === 0)
  t.ok(sample.every((entry) => list.has(entry)), `all ${sample.length} sampled entries are found`)
})

t.test('lookups ignore letter case and Unicode compatibility forms', async (t) => {
  const list = await loadBlocklist(defaultBlocklistFile())
  for (const common of ['password123', 'PASSWORD123', 'PassWord123', 'ｐａｓｓｗｏｒｄ１２３', 'iloveyou', 'qwertyuiop', '1q2w3e4r5t']) {
    t.ok(list.has(common), `"${common}" is common`)
  }
  for (const rare of ['correct horse battery staple', 'password123 but longer and mine', '', 'x']) {
    t.notOk(list.has(rare), `"${rare}" is not`)
  }
})

t.test('any list can be used: one password per line, in any order, compiled in memory at load', async (t) => {
  const dir = t.testdir({
    // U+E000 sorts after U+1F511 in UTF-16 but before it in UTF-8: the lookup must use the order the list was sorted in.
    'list.txt': ['zebra crossing', 'пароль1234', 'abc\u{1F511}defgh', 'abc\uE000defgh', 'Mot De Passe', 'short', 'aaaaaaaa\r', ''].join('\n')
  })
  const list = await loadBlocklist(join(dir, 'list.txt'))
  t.equal(list.size, 6, 'entries under 8 characters are left out')
  for (const entry of ['zebra crossing', 'ПАРОЛЬ1234', 'abc\u{1F511}defgh', 'abc\uE000defgh', 'mot de passe', 'aaaaaaaa']) {
    t.ok(list.has(entry), `finds "${entry}"`)
  }
  for (const entry of ['short', 'zebra crossin', 'zebra crossingg', 'abc\uE001defgh', 'aaaaaaa']) t.notOk(list.has(entry), `not "${entry}"`)
})

t.test('a compiled list loads as is; one that is not sorted stops the start', async (t) => {
  const dir = t.testdir()
  const compiled = compileBlocklist('delta delta\nalpha alpha\ncharlie charlie\n')
  t.equal(compiled.toString(), `${COMPILED_HEADER}alpha alpha\ncharlie charlie\ndelta delta\n`)
  await writeFile(join(dir, 'good.txt'), compiled)
  t.ok((await loadBlocklist(join(dir, 'good.txt'))).has('charlie charlie'))

  await writeFile(join(dir, 'unsorted.txt'), `${COMPILED_HEADER}alpha alpha\ndelta delta\ncharlie charlie\n`)
  await t.rejects(loadBlocklist(join(dir, 'unsorted.txt')), /not sorted at entry 2/)
  await writeFile(join(dir, 'truncated.txt'), `${COMPILED_HEADER}alpha alpha\ndelta del`)
  await t.rejects(loadBlocklist(join(dir, 'truncated.txt')), /does not end with a newline/)
  await t.rejects(loadBlocklist(join(dir, 'missing.txt')), { code: 'ENOENT' })
})

t.test('a compiled list is read from disk: every entry is found across blocks, nothing else is', async (t) => {
  const dir = t.testdir()
  // 1,000 entries: many blocks of the on-disk index, and a last block shorter than the others.
  const entries = Array.from({ length: 1000 }, (_, i) => `entry number ${String(i * 7).padStart(5, '0')}`)
  await writeFile(join(dir, 'list.txt'), compileBlocklist(entries.join('\n')))
  const list = await loadBlocklist(join(dir, 'list.txt'))
  t.equal(list.size, 1000)
  t.ok(entries.every((entry) => list.has(entry)), 'every entry, first and last of each block included')
  const misses = entries.map((entry) => `${entry}x`).concat(['aaaaaaaa', 'zzzzzzzz', 'entry number', 'entry number 00001'])
  t.notOk(misses.some((entry) => list.has(entry)), 'no near miss, nothing before the first entry or after the last')

  // Rewritten in place (truncated) while in use: a check fails loudly instead of passing a password unchecked.
  await writeFile(join(dir, 'list.txt'), COMPILED_HEADER)
  t.throws(() => list.has(entries[999] ?? ''), /changed on disk after start/)
})
