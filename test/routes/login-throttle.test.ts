import t from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp, frozenClock, PASSWORD, register } from '../helper.js'

const attempt = async (app: App, username: string, password: string, remoteAddress: string) =>
  await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress })

t.test('a victim logs in through an ongoing attack on the account after at most the current delay', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3', LOGIN_MAX_DELAY: '120' }, { clock })
  await register(app, 'alice')
  let attacker = 0
  const attack = async () => {
    const response = await attempt(app, 'alice', 'Summer2024!', `203.0.113.${++attacker}`)
    if (response.statusCode === 429) {
      clock.advance(Number(response.headers['retry-after']) * 1000)
      return await attempt(app, 'alice', 'Summer2024!', `203.0.113.${++attacker}`)
    }
    return response
  }
  for (let i = 0; i < 10; i++) t.equal((await attack()).statusCode, 401, `attack ${i + 1} reaches the password check`)

  const blocked = await attempt(app, 'alice', PASSWORD, '198.51.100.7')
  t.equal(blocked.statusCode, 429)
  t.equal(blocked.json().code, 'TOO_MANY_REQUESTS')
  const wait = Number(blocked.headers['retry-after'])
  t.ok(wait >= 1 && wait <= 120, `Retry-After ${wait} s is within LOGIN_MAX_DELAY`)

  clock.advance(wait * 1000)
  t.equal((await attack()).statusCode, 401, 'the attacker fails again the moment the delay ends')
  const victim = await attempt(app, 'alice', PASSWORD, '198.51.100.7')
  t.equal(victim.statusCode, 200, 'the victim, back after Retry-After, is not kept out by that')
})

t.test('Retry-After grows 1, 2, 4 s for the address that keeps failing on an account', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' }, { clock })
  await register(app, 'alice')
  for (let i = 0; i < 3; i++) t.equal((await attempt(app, 'alice', 'wrong password!', '203.0.113.9')).statusCode, 401)
  const seen: string[] = []
  for (let i = 0; i < 3; i++) {
    const response = await attempt(app, 'alice', 'wrong password!', '203.0.113.9')
    t.equal(response.statusCode, 429)
    seen.push(String(response.headers['retry-after']))
    clock.advance(Number(response.headers['retry-after']) * 1000)
    t.equal((await attempt(app, 'alice', 'wrong password!', '203.0.113.9')).statusCode, 401)
  }
  t.same(seen, ['1', '2', '4'])
  const correct = await attempt(app, 'alice', PASSWORD, '203.0.113.9')
  t.equal(correct.statusCode, 429, 'the right password from that address waits too: the throttle runs before the check')
})

t.test('the global ceiling answers 429 with Retry-After: 1 once a second has its attempts', async (t) => {
  const clock = frozenClock()
  const { app, logs } = await buildTestApp(t, { LOGIN_GLOBAL_MAX_PER_SECOND: '2' }, { clock })
  await register(app, 'alice')
  t.equal((await attempt(app, 'alice', PASSWORD, '198.51.100.1')).statusCode, 200)
  t.equal((await attempt(app, 'nobody', 'not the password', '198.51.100.2')).statusCode, 401)
  const third = await attempt(app, 'alice', PASSWORD, '198.51.100.3')
  t.equal(third.statusCode, 429)
  t.equal(third.headers['retry-after'], '1')
  t.ok(logs.some((line) => line.includes('global login ceiling')), 'the log says which limit refused it')
  clock.advance(1000)
  t.equal((await attempt(app, 'alice', PASSWORD, '198.51.100.3')).statusCode, 200)
})

t.test('a successful login does not wipe the failures an attacker built up on the account', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' }, { clock })
  await register(app, 'alice')
  for (let i = 1; i <= 3; i++) await attempt(app, 'alice', 'wrong password!', `203.0.113.${i}`)
  const victim = await attempt(app, 'alice', PASSWORD, '198.51.100.7')
  clock.advance(Number(victim.headers['retry-after']) * 1000)
  t.equal((await attempt(app, 'alice', PASSWORD, '198.51.100.7')).statusCode, 200)
  const attacker = await attempt(app, 'alice', 'wrong password!', '203.0.113.1')
  t.equal(attacker.statusCode, 429, 'the account still waits after the last attempt')
  clock.advance(Number(attacker.headers['retry-after']) * 1000)
  t.equal((await attempt(app, 'alice', 'wrong password!', '203.0.113.1')).statusCode, 401)
  const next = await attempt(app, 'alice', 'wrong password!', '203.0.113.2')
  t.equal(next.statusCode, 429, 'one more failure is the fourth, not the first: no fresh set of fast guesses')
  t.equal(next.headers['retry-after'], '2')
})
