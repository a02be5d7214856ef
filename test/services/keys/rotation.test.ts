import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { generateKey, readKeyFiles, writeKeyFile } from '../../../src/services/keys/key-files.js'
import { maintain, retire, rotate, type Schedule } from '../../../src/services/keys/rotation.js'

const DAY = 86_400_000
const TOKEN_LIFETIME = (900 + 30) * 1000

async function keysIn (dir: string) {
  return (await readKeyFiles(dir)).keys.sort((a, b) => Date.parse(a.activatesAt) - Date.parse(b.activatesAt))
}

t.test('rotate publishes a key that signs only after the delay', async (t) => {
  const dir = t.testdir()
  const now = Date.parse('2026-01-01T00:00:00Z')
  await writeKeyFile(dir, await generateKey('ES256', new Date(now - DAY)))
  const file = await rotate(dir, 'ES256', now, 420_000)
  t.equal(file.activatesAt, new Date(now + 420_000).toISOString())
  t.equal((await keysIn(dir)).length, 2)
})

t.test('retire refuses the active key and keys that may still have live tokens, unless forced', async (t) => {
  const dir = t.testdir()
  const start = Date.parse('2026-01-01T00:00:00Z')
  const old = await generateKey('ES256', new Date(start))
  await writeKeyFile(dir, old)
  const next = await rotate(dir, 'ES256', start + DAY, 0)

  await t.rejects(retire(dir, next.kid, { now: start + DAY + 1000, tokenLifetimeMs: TOKEN_LIFETIME, force: false }), { name: 'RetireRefusedError', message: /active signing key/ },
    'the active key cannot be retired')
  await t.rejects(retire(dir, old.kid, { now: start + DAY + 1000, tokenLifetimeMs: TOKEN_LIFETIME, force: false }), /live tokens/,
    'a key replaced a second ago may have signed tokens that are still valid')
  const retired = await retire(dir, old.kid, { now: start + DAY + TOKEN_LIFETIME, tokenLifetimeMs: TOKEN_LIFETIME, force: false })
  t.equal(retired.retiredAt, new Date(start + DAY + TOKEN_LIFETIME).toISOString(), 'allowed once a token lifetime has passed')
  const forced = await retire(dir, next.kid, { now: start + DAY + 2000, tokenLifetimeMs: TOKEN_LIFETIME, force: true })
  t.ok(forced.retiredAt, '--force retires even the active key (a leaked key)')
  await t.rejects(retire(dir, 'nope', { now: start, tokenLifetimeMs: TOKEN_LIFETIME, force: true }), /no key with kid/)
})

t.test('scheduled rotation: publishes ahead, switches on time, retires after one token lifetime', async (t) => {
  const dir = t.testdir()
  const start = Date.parse('2026-01-01T00:00:00Z')
  const first = await generateKey('ES256', new Date(start))
  await writeKeyFile(dir, first)
  const schedule: Schedule = { dir, alg: 'ES256', periodMs: 7 * DAY, leadMs: 420_000, tokenLifetimeMs: TOKEN_LIFETIME }

  t.same(await maintain(schedule, start + DAY), { retired: [] }, 'nothing to do early in the period')
  const published = await maintain(schedule, start + 7 * DAY - 420_000)
  t.ok(published.created, 'the next key is published one lead before the period ends')
  const keys = await keysIn(dir)
  t.equal(keys.length, 2)
  t.equal(keys[1]?.activatesAt, new Date(start + 7 * DAY).toISOString(), 'and signs exactly when the period ends')

  t.same(await maintain(schedule, start + 7 * DAY + 1000), { retired: [] }, 'the old key stays while its tokens may live')
  const later = await maintain(schedule, start + 7 * DAY + TOKEN_LIFETIME)
  t.same(later.retired, [first.kid], 'then it is retired')
  t.notOk(later.created, 'and no extra key is made')
  const retiredKey = (await keysIn(dir)).find((k) => k.kid === first.kid)
  t.equal(retiredKey?.retiredAt, new Date(start + 7 * DAY + TOKEN_LIFETIME).toISOString(), 'at a computed time every replica agrees on')
})

t.test('replicas sharing KEYS_DIR never rotate twice', async (t) => {
  const dir = t.testdir()
  const start = Date.parse('2026-01-01T00:00:00Z')
  await writeKeyFile(dir, await generateKey('ES256', new Date(start)))
  const schedule: Schedule = { dir, alg: 'ES256', periodMs: DAY, leadMs: 420_000, tokenLifetimeMs: TOKEN_LIFETIME }
  const results = await Promise.all(Array.from({ length: 8 }, async () => await maintain(schedule, start + DAY)))
  t.equal(results.filter((r) => r.created).length, 1, 'exactly one of eight concurrent replicas creates the next key')
  t.equal((await keysIn(dir)).length, 2)
  t.equal((await maintain(schedule, start + DAY + 1)).created, undefined, 'and a later step sees it and does nothing')
})

t.test('a corrupt or foreign file in KEYS_DIR is reported and skipped', async (t) => {
  const dir = t.testdir()
  const good = await generateKey('EdDSA', new Date())
  await writeKeyFile(dir, good)
  await writeFile(join(dir, 'broken.key.json'), '{"kid": "broken", "alg": "ES256"')
  const wrongName = await generateKey('EdDSA', new Date())
  await writeFile(join(dir, 'renamed.key.json'), JSON.stringify(wrongName))
  const weak = await generateKey('ES256', new Date())
  await writeFile(join(dir, `${weak.kid}.key.json`), JSON.stringify({ ...weak, alg: 'RS256' }))
  const { keys, errors } = await readKeyFiles(dir)
  t.same(keys.map((k) => k.kid), [good.kid])
  t.equal(errors.length, 3)
  t.match(errors.map((e) => e.error).join('\n'), /does not match/)
  t.ok((await readdir(dir)).length >= 4)
})
