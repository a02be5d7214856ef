import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createPostgresStore } from '../../src/store/postgres.js'
import { createSqliteStore } from '../../src/store/sqlite.js'
import { UsernameTakenError, type Store } from '../../src/store/types.js'
import { createTestDatabase, postgresTestOptions } from '../helpers/postgres.js'

/**
 * One set of store tests, run against every backend: SQLite (a fresh file per test) and PostgreSQL
 * (a fresh database per test). `open` may be called twice in one test to get a second, independent
 * connection to the same data, which is what another replica has.
 */
interface Backend {
  name: string
  /** Returns a function that opens (and migrates) another store on the same fresh database. */
  fresh (t: Test): Promise<() => Promise<Store>>
}

const sqlite: Backend = {
  name: 'sqlite',
  async fresh (t) {
    const file = join(t.testdir(), 'auth.db')
    return async () => track(t, createSqliteStore(file))
  }
}

const postgres: Backend = {
  name: 'postgres',
  async fresh (t) {
    const url = await createTestDatabase(t)
    return async () => track(t, createPostgresStore({ url }))
  }
}

async function track (t: Test, store: Store): Promise<Store> {
  t.teardown(async () => await store.close())
  await store.migrate()
  return store
}

const NOW = 1_760_000_000_000
const HOUR = 3_600_000

function newUser (username: string, id = crypto.randomUUID()) {
  return { id, username, passwordHash: `$argon2id$hash-of-${username}`, roles: ['user'], now: NOW }
}

const hex = (n: number) => n.toString(16).padStart(64, '0')

function suite (t: Test, backend: Backend) {
  t.test('users: create, then find in any letter case and by id', async (t) => {
    const store = await (await backend.fresh(t))()
    const created = await store.users.create({ ...newUser('Alice'), roles: ['user', 'admin'] })
    t.same(created, { id: created.id, username: 'Alice', roles: ['user', 'admin'] })
    for (const spelling of ['Alice', 'alice', 'ALICE', 'aLiCe', 'ａｌｉｃｅ']) {
      const found = await store.users.findByUsername(spelling)
      t.equal(found?.id, created.id, `found as ${spelling}`)
    }
    const byId = await store.users.findById(created.id)
    t.same(byId, {
      id: created.id,
      username: 'Alice',
      roles: ['user', 'admin'],
      passwordHash: '$argon2id$hash-of-Alice',
      createdAt: NOW,
      updatedAt: NOW,
      disabledAt: null,
      tokensNotBefore: null
    }, 'times come back as numbers, roles as a list')
    t.equal(await store.users.findByUsername('bob'), undefined)
    t.equal(await store.users.findById(crypto.randomUUID()), undefined)
  })

  t.test('users: a name taken in another letter case is a UsernameTakenError', async (t) => {
    const store = await (await backend.fresh(t))()
    await store.users.create(newUser('Alice'))
    for (const spelling of ['Alice', 'alice', 'ALICE', 'ａｌｉｃｅ']) {
      await t.rejects(store.users.create(newUser(spelling)), UsernameTakenError, `${spelling} is taken`)
    }
    t.equal((await store.users.list()).length, 1)
  })

  t.test('users: a 64-character name whose key is far longer (NFKC expands ligatures) is stored and found', async (t) => {
    const store = await (await backend.fresh(t))()
    // U+FDFA is one letter that NFKC turns into 18 characters: the key of this name has 1152.
    const username = '\uFDFA'.repeat(64)
    const created = await store.users.create(newUser(username))
    t.equal((await store.users.findByUsername(username))?.id, created.id)
    await t.rejects(store.users.create(newUser(username)), UsernameTakenError)
  })

  t.test('users: setPasswordHash replaces the hash and moves updatedAt only', async (t) => {
    const store = await (await backend.fresh(t))()
    const { id } = await store.users.create(newUser('alice'))
    await store.users.setPasswordHash(id, '$argon2id$new', NOW + 5000)
    const user = await store.users.findById(id)
    t.equal(user?.passwordHash, '$argon2id$new')
    t.equal(user?.updatedAt, NOW + 5000)
    t.equal(user?.createdAt, NOW)
  })

  t.test('users: list, roles, disabled and tokensNotBefore round-trip', async (t) => {
    const store = await (await backend.fresh(t))()
    const a = await store.users.create(newUser('carol'))
    const b = await store.users.create({ ...newUser('bob'), now: NOW + 1 })
    await store.users.setRoles(a.id, ['admin'], NOW + 2)
    await store.users.setDisabled(b.id, true, NOW + 3)
    await store.users.setTokensNotBefore(b.id, 1_760_000_123, NOW + 4)
    const list = await store.users.list()
    t.same(list.map((u) => [u.username, u.roles, u.disabledAt, u.tokensNotBefore]), [
      ['carol', ['admin'], null, null],
      ['bob', ['user'], NOW + 3, 1_760_000_123]
    ])
    await store.users.setDisabled(b.id, false, NOW + 5)
    t.equal((await store.users.findById(b.id))?.disabledAt, null)
  })

  t.test('sessions: createFamily then findToken', async (t) => {
    const store = await (await backend.fresh(t))()
    const user = await store.users.create(newUser('alice'))
    const family = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + HOUR }
    await store.sessions.createFamily(family, hex(1))
    t.same(await store.sessions.findToken(hex(1)), {
      token: { hash: hex(1), familyId: family.id, createdAt: NOW, spentAt: null, rotationNonce: null, successorHash: null },
      family: { ...family, revokedAt: null, revokeReason: null }
    })
    t.equal(await store.sessions.findToken(hex(2)), undefined)
  })

  t.test('sessions: findForRefresh reads the token, its family and its user at once', async (t) => {
    const store = await (await backend.fresh(t))()
    const user = await store.users.create(newUser('alice'))
    const family = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + HOUR }
    await store.sessions.createFamily(family, hex(1))
    await store.users.setDisabled(user.id, true, NOW + 1)
    t.same(await store.sessions.findForRefresh(hex(1)), {
      ...await store.sessions.findToken(hex(1)),
      user: await store.users.findById(user.id)
    })
    t.equal((await store.sessions.findForRefresh(hex(1)))?.user?.disabledAt, NOW + 1)
    t.equal(await store.sessions.findForRefresh(hex(2)), undefined)
  })

  t.test('sessions: a token of a revoked or ended family never rotates', async (t) => {
    const store = await (await backend.fresh(t))()
    const user = await store.users.create(newUser('alice'))
    const revoked = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + HOUR }
    const ended = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + 10 }
    await store.sessions.createFamily(revoked, hex(1))
    await store.sessions.createFamily(ended, hex(2))
    await store.sessions.revokeFamily(revoked.id, 'logout', NOW + 1)
    t.equal(await store.sessions.rotate(hex(1), { hash: hex(11), nonce: 'n' }, NOW + 5), false, 'revoked')
    t.equal(await store.sessions.rotate(hex(2), { hash: hex(12), nonce: 'n' }, NOW + 10), false, 'ended')
    t.equal((await store.sessions.findToken(hex(1)))?.token.spentAt, null, 'nothing spent')
    t.equal(await store.sessions.findToken(hex(11)), undefined, 'no successor')
    t.equal(await store.sessions.findToken(hex(12)), undefined, 'no successor')
  })

  t.test('sessions: of many simultaneous rotations of one token, exactly one wins', async (t) => {
    const open = await backend.fresh(t)
    // PostgreSQL: two pools, as two replicas have. SQLite serves one process, so one handle.
    const stores = backend.name === 'postgres' ? [await open(), await open()] : [await open()]
    const [store] = stores as [Store]
    const user = await store.users.create(newUser('alice'))
    const family = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + HOUR }
    await store.sessions.createFamily(family, hex(1))
    const attempts = Array.from({ length: 12 }, (_, i) => ({ hash: hex(100 + i), nonce: `nonce-${i}` }))
    const results = await Promise.all(attempts.map((successor, i) =>
      (stores[i % stores.length] as Store).sessions.rotate(hex(1), successor, NOW + 10)))
    t.equal(results.filter(Boolean).length, 1, 'one rotation succeeded')
    const winner = attempts[results.indexOf(true)]
    const spent = await store.sessions.findToken(hex(1))
    t.equal(spent?.token.spentAt, NOW + 10)
    t.equal(spent?.token.successorHash, winner?.hash)
    t.equal(spent?.token.rotationNonce, winner?.nonce)
    const successors = await Promise.all(attempts.map((a) => store.sessions.findToken(a.hash)))
    t.equal(successors.filter(Boolean).length, 1, 'one successor exists')
    t.same(successors.find(Boolean)?.token, { hash: winner?.hash, familyId: family.id, createdAt: NOW + 10, spentAt: null, rotationNonce: null, successorHash: null })
    t.equal(await store.sessions.rotate(hex(1), { hash: hex(999), nonce: 'late' }, NOW + 20), false, 'a spent token never rotates again')
  })

  t.test('sessions: revokeFamily revokes once', async (t) => {
    const store = await (await backend.fresh(t))()
    const user = await store.users.create(newUser('alice'))
    const family = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + HOUR }
    await store.sessions.createFamily(family, hex(1))
    t.equal(await store.sessions.revokeFamily(family.id, 'logout', NOW + 1), true)
    t.equal(await store.sessions.revokeFamily(family.id, 'reuse', NOW + 2), false, 'already revoked')
    const found = await store.sessions.findToken(hex(1))
    t.equal(found?.family.revokedAt, NOW + 1)
    t.equal(found?.family.revokeReason, 'logout')
    t.equal(await store.sessions.revokeFamily(crypto.randomUUID(), 'logout', NOW), false, 'unknown family')
  })

  t.test('sessions: revokeUserFamilies revokes the live families of that user only', async (t) => {
    const store = await (await backend.fresh(t))()
    const alice = await store.users.create(newUser('alice'))
    const bob = await store.users.create(newUser('bob'))
    const family = (userId: string, expiresAt: number) => ({ id: crypto.randomUUID(), userId, createdAt: NOW, expiresAt })
    const live1 = family(alice.id, NOW + HOUR)
    const live2 = family(alice.id, NOW + 2 * HOUR)
    const expired = family(alice.id, NOW + 10)
    const revoked = family(alice.id, NOW + HOUR)
    const bobs = family(bob.id, NOW + HOUR)
    let n = 1
    for (const f of [live1, live2, expired, revoked, bobs]) await store.sessions.createFamily(f, hex(n++))
    await store.sessions.revokeFamily(revoked.id, 'logout', NOW + 50)
    const ids = await store.sessions.revokeUserFamilies(alice.id, 'password-change', NOW + 100)
    t.same([...ids].sort(), [live1.id, live2.id].sort())
    t.equal((await store.sessions.findToken(hex(1)))?.family.revokeReason, 'password-change')
    t.equal((await store.sessions.findToken(hex(4)))?.family.revokeReason, 'logout', 'an earlier revocation is kept')
    t.equal((await store.sessions.findToken(hex(5)))?.family.revokedAt, null, "another user's session is untouched")
    t.same(await store.sessions.revokeUserFamilies(alice.id, 'again', NOW + 200), [])
  })

  t.test('sessions: purgeExpired deletes ended families with their tokens', async (t) => {
    const store = await (await backend.fresh(t))()
    const user = await store.users.create(newUser('alice'))
    const old = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + 10 }
    const live = { id: crypto.randomUUID(), userId: user.id, createdAt: NOW, expiresAt: NOW + HOUR }
    await store.sessions.createFamily(old, hex(1))
    await store.sessions.rotate(hex(1), { hash: hex(2), nonce: 'n' }, NOW + 5)
    await store.sessions.createFamily(live, hex(3))
    t.equal(await store.sessions.purgeExpired(NOW + 11), 1)
    t.equal(await store.sessions.findToken(hex(1)), undefined)
    t.equal(await store.sessions.findToken(hex(2)), undefined)
    t.equal((await store.sessions.findToken(hex(3)))?.family.id, live.id)
    t.equal(await store.sessions.purgeExpired(NOW + 11), 0)
  })

  t.test('revocations: add, since (ordered, after, limit, live only) and purge', async (t) => {
    const store = await (await backend.fresh(t))()
    const entry = (subject: string, expiresAt: number, notBefore: number | null = null) =>
      ({ kind: notBefore === null ? 'session' as const : 'user' as const, subject, notBefore, createdAt: NOW, expiresAt })
    await store.revocations.add(entry('s1', NOW + HOUR))
    await store.revocations.add(entry('u1', NOW + 10, 1_760_000_000))
    await store.revocations.add(entry('s2', NOW + HOUR))
    const all = await store.revocations.since(0, NOW, 100)
    t.same(all.map((r) => [r.kind, r.subject, r.notBefore, r.createdAt, r.expiresAt]), [
      ['session', 's1', null, NOW, NOW + HOUR],
      ['user', 'u1', 1_760_000_000, NOW, NOW + 10],
      ['session', 's2', null, NOW, NOW + HOUR]
    ])
    t.ok(all.every((r) => typeof r.seq === 'number'), 'seq is a number')
    t.ok(all[0]!.seq < all[1]!.seq && all[1]!.seq < all[2]!.seq, 'seq grows')
    t.same((await store.revocations.since(all[0]!.seq, NOW, 100)).map((r) => r.subject), ['u1', 's2'])
    t.same((await store.revocations.since(0, NOW, 1)).map((r) => r.subject), ['s1'])
    t.same((await store.revocations.since(0, NOW + 10, 100)).map((r) => r.subject), ['s1', 's2'], 'an ended entry is left out')
    t.equal(await store.revocations.purge(NOW + 10), 1)
    t.same((await store.revocations.since(0, NOW, 100)).map((r) => r.subject), ['s1', 's2'])
  })

  t.test('migrate is idempotent and ping answers', async (t) => {
    const store = await (await backend.fresh(t))()
    await store.migrate()
    await store.ping()
    t.equal(store.kind, backend.name)
    t.same(await store.users.list(), [])
  })
}

t.test('sqlite store', async (t) => suite(t, sqlite))
t.test('postgres store', await postgresTestOptions(t), async (t) => suite(t, postgres))
