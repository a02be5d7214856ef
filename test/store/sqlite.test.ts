import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { createSqliteStore } from '../../src/store/sqlite.js'
import { UsernameTakenError, type Store } from '../../src/store/types.js'

async function openStore (t: Test, file: string): Promise<Store> {
  const store = createSqliteStore(file)
  await store.migrate()
  t.teardown(async () => await store.close().catch(() => undefined))
  return store
}

const newUser = (username: string, now = 1_000) => ({ id: randomUUID(), username, passwordHash: `$argon2id$hash-of-${username}`, roles: ['user'], now })

t.test('creates the file and its folder on first start; migrations can run again', async (t) => {
  const file = join(t.testdir(), 'nested', 'deeper', 'auth.db')
  const store = await openStore(t, file)
  t.ok(existsSync(file))
  t.equal(store.kind, 'sqlite')
  await store.migrate()
  await store.ping()
  t.pass('a second migrate is a no-op')
})

t.test('users', async (t) => {
  const store = await openStore(t, join(t.testdir(), 'auth.db'))

  t.test('create and find, by id and by username in any letter case', async (t) => {
    const alice = newUser('Alice')
    t.same(await store.users.create(alice), { id: alice.id, username: 'Alice', roles: ['user'] })
    for (const name of ['Alice', 'alice', 'ALICE', 'ａｌｉｃｅ']) {
      t.equal((await store.users.findByUsername(name))?.id, alice.id, name)
    }
    t.match(await store.users.findById(alice.id), {
      id: alice.id, username: 'Alice', roles: ['user'], passwordHash: alice.passwordHash, createdAt: 1000, updatedAt: 1000, disabledAt: null, tokensNotBefore: null
    })
    t.equal(await store.users.findByUsername('bob'), undefined)
    t.equal(await store.users.findById(randomUUID()), undefined)
  })

  t.test('a username is unique regardless of case', async (t) => {
    await t.rejects(store.users.create(newUser('ALICE')), UsernameTakenError)
    await t.rejects(store.users.create(newUser('alice')), UsernameTakenError)
  })

  t.test('updates', async (t) => {
    const bob = newUser('bob')
    await store.users.create(bob)
    await store.users.setPasswordHash(bob.id, '$argon2id$new', 2_000)
    t.match(await store.users.findById(bob.id), { passwordHash: '$argon2id$new', updatedAt: 2000, createdAt: 1000 })
    await store.users.setRoles(bob.id, ['user', 'admin'], 3_000)
    t.same((await store.users.findById(bob.id))?.roles, ['user', 'admin'])
    await store.users.setDisabled(bob.id, true, 4_000)
    t.equal((await store.users.findById(bob.id))?.disabledAt, 4000)
    await store.users.setDisabled(bob.id, false, 5_000)
    t.equal((await store.users.findById(bob.id))?.disabledAt, null)
    await store.users.setTokensNotBefore(bob.id, 1234, 6_000)
    t.equal((await store.users.findById(bob.id))?.tokensNotBefore, 1234)
    t.same((await store.users.list()).map((u) => u.username), ['Alice', 'bob'])
  })
})

t.test('data survives closing and reopening the file', async (t) => {
  const file = join(t.testdir(), 'auth.db')
  const first = createSqliteStore(file)
  await first.migrate()
  const carol = newUser('carol')
  await first.users.create(carol)
  await first.close()

  const second = await openStore(t, file)
  t.equal((await second.users.findByUsername('CAROL'))?.id, carol.id)
})

t.test('ping answers while open and fails once closed', async (t) => {
  const store = createSqliteStore(join(t.testdir(), 'auth.db'))
  await store.migrate()
  await store.ping()
  await store.close()
  await t.rejects(store.ping())
})

t.test('refresh-token families', async (t) => {
  const store = await openStore(t, join(t.testdir(), 'auth.db'))
  const user = newUser('dave')
  await store.users.create(user)
  const family = { id: randomUUID(), userId: user.id, createdAt: 1_000, expiresAt: 100_000 }
  await store.sessions.createFamily(family, 'hash-1')

  t.test('find a token with its family', async (t) => {
    const found = await store.sessions.findToken('hash-1')
    t.match(found, { token: { hash: 'hash-1', familyId: family.id, spentAt: null }, family: { ...family, revokedAt: null, revokeReason: null } })
    t.equal(await store.sessions.findToken('unknown'), undefined)
  })

  t.test('rotation spends a token exactly once, however many try at once', async (t) => {
    const attempts = await Promise.all(Array.from({ length: 8 }, async (_, i) =>
      await store.sessions.rotate('hash-1', { hash: `hash-2-${i}`, nonce: `nonce-${i}` }, 2_000)))
    t.equal(attempts.filter(Boolean).length, 1)
    const winner = attempts.indexOf(true)
    t.match(await store.sessions.findToken('hash-1'), { token: { spentAt: 2000, rotationNonce: `nonce-${winner}`, successorHash: `hash-2-${winner}` } })
    t.match(await store.sessions.findToken(`hash-2-${winner}`), { token: { familyId: family.id, spentAt: null } })
    t.equal(await store.sessions.findToken(`hash-2-${(winner + 1) % 8}`), undefined, 'losers created no successor')
  })

  t.test('revoking a family is done once', async (t) => {
    t.equal(await store.sessions.revokeFamily(family.id, 'logout', 3_000), true)
    t.equal(await store.sessions.revokeFamily(family.id, 'reuse', 4_000), false)
    t.match((await store.sessions.findToken('hash-1'))?.family, { revokedAt: 3000, revokeReason: 'logout' })
  })

  t.test('revoking every family of a user skips revoked and expired ones', async (t) => {
    const live = { id: randomUUID(), userId: user.id, createdAt: 1_000, expiresAt: 100_000 }
    const expired = { id: randomUUID(), userId: user.id, createdAt: 1_000, expiresAt: 2_000 }
    await store.sessions.createFamily(live, 'hash-live')
    await store.sessions.createFamily(expired, 'hash-expired')
    t.same(await store.sessions.revokeUserFamilies(user.id, 'password-change', 5_000), [live.id])
  })

  t.test('purging expired families removes them and their tokens', async (t) => {
    const purged = await store.sessions.purgeExpired(50_000)
    t.equal(purged, 1)
    t.equal(await store.sessions.findToken('hash-expired'), undefined)
    t.ok(await store.sessions.findToken('hash-live'))
  })
})

t.test('revocation entries', async (t) => {
  const store = await openStore(t, join(t.testdir(), 'auth.db'))
  await store.revocations.add({ kind: 'session', subject: 'sid-1', notBefore: null, createdAt: 1_000, expiresAt: 10_000 })
  await store.revocations.add({ kind: 'user', subject: 'user-1', notBefore: 2, createdAt: 2_000, expiresAt: 20_000 })
  const all = await store.revocations.since(0, 5_000, 100)
  t.same(all.map((r) => [r.kind, r.subject, r.notBefore]), [['session', 'sid-1', null], ['user', 'user-1', 2]])
  t.ok((all[0]?.seq ?? 0) < (all[1]?.seq ?? 0), 'in order of sequence')
  t.same((await store.revocations.since(all[0]?.seq ?? 0, 5_000, 100)).map((r) => r.subject), ['user-1'], 'only newer entries')
  t.same((await store.revocations.since(0, 15_000, 100)).map((r) => r.subject), ['user-1'], 'expired entries are not served')
  t.equal(await store.revocations.purge(15_000), 1)
})

t.test('an in-memory database works for throwaway use', async (t) => {
  const store = await openStore(t, ':memory:')
  await store.users.create(newUser('erin'))
  t.ok(await store.users.findByUsername('ERIN'))
})
