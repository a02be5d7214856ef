import argon2 from 'argon2'
import t from 'tap'
import { ARGON2_FLOOR } from '../../src/config.js'
import { AppError } from '../../src/errors.js'
import { createPasswordHasher } from '../../src/services/passwords/hasher.js'

const CURRENT = '$argon2id$v=19$m=19456,t=2,p=1$'
const options = { params: { ...ARGON2_FLOOR }, concurrency: 2, queueLimit: 16 }

t.test('hashes with argon2id at the configured cost and verifies', async (t) => {
  const hasher = await createPasswordHasher(options)
  const hash = await hasher.hash('correct horse battery staple')
  t.ok(hash.startsWith(CURRENT), hash.slice(0, 40))
  t.same(await hasher.verify(hash, 'correct horse battery staple'), { ok: true, needsRehash: false })
  t.same(await hasher.verify(hash, 'correct horse battery stapler'), { ok: false, needsRehash: false })
  t.not(await hasher.hash('correct horse battery staple'), hash, 'every hash has its own salt')
})

t.test('other configured costs are used as given', async (t) => {
  const hasher = await createPasswordHasher({ ...options, params: { memoryKiB: 20480, timeCost: 3, parallelism: 2 } })
  t.ok((await hasher.hash('some password')).startsWith('$argon2id$v=19$m=20480,t=3,p=2$'))
})

t.test('the password is hashed exactly as given: no trimming, no normalisation', async (t) => {
  const hasher = await createPasswordHasher(options)
  const hash = await hasher.hash(' pass word ')
  t.equal((await hasher.verify(hash, ' pass word ')).ok, true)
  t.equal((await hasher.verify(hash, 'pass word')).ok, false)
  const composed = await hasher.hash('caf\u00e9 au lait')
  t.equal((await hasher.verify(composed, 'cafe\u0301 au lait')).ok, false, 'a differently encoded é is another password')
})

t.test('an unknown user (no hash) costs a real argon2 verify and always fails', async (t) => {
  const hasher = await createPasswordHasher(options)
  const calls = t.capture(argon2, 'verify', argon2.verify)
  const result = await hasher.verify(undefined, 'any password at all')
  t.same(result, { ok: false, needsRehash: false })
  const seen = calls()
  t.equal(seen.length, 1, 'argon2.verify ran')
  const [dummy, password] = seen[0]?.args as [string, string]
  t.ok(dummy.startsWith(CURRENT), 'against a dummy hash of the configured cost')
  t.equal(password, 'any password at all')
})

t.test('a stored hash with other parameters verifies and asks for a re-hash', async (t) => {
  const hasher = await createPasswordHasher(options)
  const variants = [
    { memoryCost: 19456, timeCost: 3, parallelism: 1 },
    { memoryCost: 19456, timeCost: 2, parallelism: 2 },
    { memoryCost: 32768, timeCost: 2, parallelism: 1 }
  ]
  for (const params of variants) {
    const old = await argon2.hash('old password here', { type: argon2.argon2id, ...params })
    t.same(await hasher.verify(old, 'old password here'), { ok: true, needsRehash: true }, JSON.stringify(params))
    t.same(await hasher.verify(old, 'wrong password'), { ok: false, needsRehash: false }, 'a wrong password never triggers a re-hash')
  }
  const argon2i = await argon2.hash('old password here', { type: argon2.argon2i, memoryCost: 19456, timeCost: 2, parallelism: 1 })
  t.same(await hasher.verify(argon2i, 'old password here'), { ok: true, needsRehash: true }, 'another argon2 variant is upgraded too')
})

t.test('a malformed stored hash is a failed verify, not a crash', async (t) => {
  const hasher = await createPasswordHasher(options)
  for (const stored of ['', 'not a hash', '$argon2id$v=19$m=19456,t=2,p=1$broken', '$2b$10$abcdefghijklmnopqrstuv']) {
    t.same(await hasher.verify(stored, 'whatever password'), { ok: false, needsRehash: false }, JSON.stringify(stored))
  }
})

t.test('at most `concurrency` argon2 computations run at once; a full queue is SERVER_BUSY', async (t) => {
  const hasher = await createPasswordHasher({ ...options, concurrency: 1, queueLimit: 2 })
  let running = 0
  let peak = 0
  const original = argon2.hash
  t.capture(argon2, 'hash', async (...args: Parameters<typeof argon2.hash>) => {
    running++
    peak = Math.max(peak, running)
    try {
      return await original(...args)
    } finally {
      running--
    }
  })
  const results = await Promise.allSettled([1, 2, 3, 4].map(async (i) => await hasher.hash(`password number ${i}`)))
  t.equal(peak, 1, 'one hash at a time')
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'], 'one running, two waiting, the fourth refused')
  const refused = results[3]
  t.ok(refused?.status === 'rejected' && refused.reason instanceof AppError && refused.reason.code === 'SERVER_BUSY')
  t.equal(hasher.limiter.active, 0)
})
