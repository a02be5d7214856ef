import t from 'tap'
import { frozenClaims } from '../../../src/services/tokens/access-token.js'
import { VerifiedTokens } from '../../../src/services/tokens/verified-tokens.js'

t.test('holds at most max tokens, dropping the oldest first', async (t) => {
  const cache = new VerifiedTokens<number>(3)
  for (let i = 0; i < 10; i++) cache.set(`token-${i}`, i)
  t.equal(cache.size, 3)
  t.same([7, 8, 9].map((i) => cache.get(`token-${i}`)), [7, 8, 9], 'the three newest stay')
  t.equal(cache.get('token-6'), undefined, 'older ones are gone')
})

t.test('setting a token already held does not push another one out', async (t) => {
  const cache = new VerifiedTokens<number>(2)
  cache.set('a', 1)
  cache.set('b', 2)
  cache.set('a', 3)
  t.equal(cache.get('a'), 3)
  t.equal(cache.get('b'), 2)
})

t.test('matches the exact token text only', async (t) => {
  const cache = new VerifiedTokens<number>(10)
  cache.set('header.payload.signature', 1)
  t.equal(cache.get('header.payload.signaturE'), undefined)
  t.equal(cache.get('header.payload.signature '), undefined)
  t.equal(cache.get('header.payload.signature'), 1)
})

t.test('max 0 turns the cache off; a bad max is refused', async (t) => {
  const cache = new VerifiedTokens<number>(0)
  cache.set('a', 1)
  t.equal(cache.get('a'), undefined)
  t.throws(() => new VerifiedTokens(-1))
  t.throws(() => new VerifiedTokens(1.5))
})

t.test('cached claims cannot be changed by code handed the user of one request', async (t) => {
  const claims = frozenClaims({ sub: 'u1', roles: ['user'] })
  t.throws(() => { (claims['roles'] as string[]).push('admin') }, TypeError)
  t.throws(() => { (claims as Record<string, unknown>)['sub'] = 'u2' }, TypeError)
  t.same(claims, { sub: 'u1', roles: ['user'] })
})
