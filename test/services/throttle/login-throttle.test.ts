import t from 'tap'
import type { Test } from 'tap'
import { AppError } from '../../../src/errors.js'
import { createMemoryCounterStore } from '../../../src/services/throttle/counter-store.js'
import { createLoginThrottle, progressiveDelay, type LoginThrottle, type LoginThrottleOptions } from '../../../src/services/throttle/login-throttle.js'
import { frozenClock } from '../../helper.js'

const ATTACKER = '203.0.113.66'
const VICTIM = '198.51.100.7'

function setup (options: Partial<Omit<LoginThrottleOptions, 'counters'>> = {}) {
  const clock = frozenClock(Date.parse('2030-01-01T00:00:00Z'))
  const counters = createMemoryCounterStore({ clock })
  const throttle = createLoginThrottle({ counters, maxFailures: 3, windowSeconds: 900, maxDelaySeconds: 300, globalMaxPerSecond: 1000, ...options })
  return { clock, counters, throttle }
}

/** A wrong password: undefined when it got to the password check (and now counts), else the Retry-After it got. */
async function guess (throttle: LoginThrottle, account: string, address: string): Promise<number | undefined> {
  try {
    await throttle.begin(account, address)
    return undefined
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'TOO_MANY_REQUESTS') throw error
    return error.retryAfter
  }
}

/** The right password: undefined when it got through (and counts nothing), else the Retry-After it got. */
async function login (throttle: LoginThrottle, account: string, address: string): Promise<number | undefined> {
  const refused = await guess(throttle, account, address)
  if (refused === undefined) await throttle.recordSuccess(account, address)
  return refused
}

async function fail (t: Test, throttle: LoginThrottle, account: string, address: string) {
  t.equal(await guess(throttle, account, address), undefined, `${address} may try ${account}`)
}

t.test('the delay starts at 1 s at LOGIN_MAX_FAILURES, doubles with each failure and stops at LOGIN_MAX_DELAY', async (t) => {
  const delays = [1, 2, 3, 4, 5, 10, 11, 12, 50].map((failures) => progressiveDelay(failures, 3, 300_000))
  t.same(delays, [0, 0, 1000, 2000, 4000, 128_000, 256_000, 300_000, 300_000])
})

t.test('one address failing on one account waits 1, 2, 4, 8 s after each failure past the limit', async (t) => {
  const { clock, throttle } = setup()
  for (let i = 0; i < 3; i++) await fail(t, throttle, 'alice', ATTACKER)
  for (const expected of [1, 2, 4, 8]) {
    t.equal(await guess(throttle, 'alice', ATTACKER), expected, `Retry-After ${expected} s`)
    clock.advance(expected * 1000 - 1)
    t.equal(await guess(throttle, 'alice', ATTACKER), 1, 'still waiting 1 ms before the end: refusals do not move it')
    clock.advance(1)
    await fail(t, throttle, 'alice', ATTACKER)
  }
})

t.test('the delay never grows past LOGIN_MAX_DELAY, however long the attack', async (t) => {
  const { clock, throttle } = setup({ maxDelaySeconds: 60 })
  for (let i = 0; i < 3; i++) await fail(t, throttle, 'alice', ATTACKER)
  let last = 0
  for (let i = 0; i < 12; i++) {
    last = (await guess(throttle, 'alice', ATTACKER)) ?? 0
    clock.advance(last * 1000)
    await fail(t, throttle, 'alice', ATTACKER)
  }
  t.equal(last, 60)
  t.equal(await guess(throttle, 'alice', ATTACKER), 60)
})

t.test('failures are forgotten LOGIN_WINDOW after the last one, not after the first', async (t) => {
  const { clock, throttle } = setup({ windowSeconds: 100 })
  await fail(t, throttle, 'alice', ATTACKER)
  clock.advance(90_000)
  await fail(t, throttle, 'alice', ATTACKER)
  clock.advance(90_000)
  await fail(t, throttle, 'alice', ATTACKER)
  t.equal(await guess(throttle, 'alice', ATTACKER), 1, 'three failures 90 s apart are still three')
  clock.advance(100_000)
  await fail(t, throttle, 'alice', ATTACKER)
  t.equal(await guess(throttle, 'alice', ATTACKER), undefined, 'a full window without failures cleared them: this is the second')
})

t.test('per address: spraying many usernames from one address is slowed down', async (t) => {
  const { throttle } = setup()
  for (const account of ['bob', 'carol', 'dave']) await fail(t, throttle, account, ATTACKER)
  t.equal(await guess(throttle, 'erin', ATTACKER), 1, 'a fresh username from the same address waits')
  t.equal(await guess(throttle, 'erin', VICTIM), undefined, 'other addresses are not affected')
})

t.test('an attacker who keeps failing cannot keep a victim on a clean address out past the current delay', async (t) => {
  const { clock, throttle } = setup()
  // Many attacker addresses, so none of them hits its own per-address limit.
  const attackers = Array.from({ length: 40 }, (_, i) => `203.0.113.${i + 1}`)
  for (const address of attackers.slice(0, 12)) {
    // A guess that gets through counts as a failure; one that is refused waits, then fails.
    const wait = await guess(throttle, 'alice', address)
    if (wait !== undefined) {
      clock.advance(wait * 1000)
      await fail(t, throttle, 'alice', address)
    }
  }
  t.equal(await login(throttle, 'alice', VICTIM), 300, 'the victim is asked to wait the current delay (at its cap)')

  // The attacker fails again the moment the account is free, from addresses that failed before and get no pass.
  clock.advance(299_000)
  t.equal(await guess(throttle, 'alice', attackers[0] as string), 1, 'an address with failures waits like before')
  clock.advance(1000)
  await fail(t, throttle, 'alice', attackers[0] as string)
  t.equal(await guess(throttle, 'alice', attackers[1] as string), 300, 'the account delay started over for the attacker')
  t.equal(await login(throttle, 'alice', VICTIM), undefined, 'but the victim, back after Retry-After, goes through')
  t.equal(await login(throttle, 'alice', VICTIM), 300, 'the pass is used up by the login; the next one waits its turn again')
})

t.test('a pass is not moved later by asking again, and is lost with a failure from that address', async (t) => {
  const { clock, throttle } = setup()
  for (let i = 0; i < 4; i++) {
    const wait = await guess(throttle, 'alice', `203.0.113.${i}`)
    if (wait !== undefined) {
      clock.advance(wait * 1000)
      await fail(t, throttle, 'alice', `203.0.113.${i}`)
    }
  }
  t.equal(await guess(throttle, 'alice', VICTIM), 2)
  clock.advance(1000)
  t.equal(await guess(throttle, 'alice', VICTIM), 1, 'asking again counts down the same pass')
  clock.advance(1000)
  await fail(t, throttle, 'alice', VICTIM)
  t.equal(await guess(throttle, 'alice', VICTIM), 4, 'after its own failure the address waits like any other')
})

t.test('successful and released attempts give their count back; others\' failures stay', async (t) => {
  const { throttle } = setup()
  for (let i = 0; i < 10; i++) {
    t.equal(await guess(throttle, 'alice', VICTIM), undefined)
    await throttle.release('alice', VICTIM)
  }
  for (let i = 0; i < 10; i++) t.equal(await login(throttle, 'alice', VICTIM), undefined, `login ${i + 1}`)
  for (let i = 0; i < 3; i++) await fail(t, throttle, 'alice', `203.0.113.${i}`)
  t.equal(await guess(throttle, 'alice', '203.0.113.1'), 1, 'the victim\'s logins did not erase the attacker\'s failures')
})

t.test('the global ceiling: at most LOGIN_GLOBAL_MAX_PER_SECOND attempts get to hashing each second', async (t) => {
  const { clock, throttle } = setup({ globalMaxPerSecond: 3 })
  for (let i = 0; i < 3; i++) t.equal(await login(throttle, `user${i}`, `198.51.100.${i}`), undefined)
  t.equal(await login(throttle, 'user9', '198.51.100.9'), 1, 'the fourth in the same second waits a second')
  t.equal(await login(throttle, 'user9', '198.51.100.9'), 1, 'and a refusal by the ceiling counted as no failure')
  clock.advance(1000)
  t.equal(await login(throttle, 'user9', '198.51.100.9'), undefined, 'the next second has room again')
})

t.test('attempts refused for failures do not use up the global ceiling', async (t) => {
  const { throttle } = setup({ globalMaxPerSecond: 4 })
  for (let i = 0; i < 3; i++) await fail(t, throttle, `user${i}`, ATTACKER)
  for (let i = 0; i < 10; i++) t.equal(await guess(throttle, `user${i}`, ATTACKER), 1)
  t.equal(await login(throttle, 'alice', VICTIM), undefined, 'the victim still has the fourth slot of this second')
})

t.test('parallel guesses get exactly their share: three of twelve with LOGIN_MAX_FAILURES=3', async (t) => {
  const { throttle } = setup()
  const results = await Promise.all(Array.from({ length: 12 }, async (_, i) => await guess(throttle, 'alice', `203.0.113.${i}`)))
  t.equal(results.filter((r) => r === undefined).length, 3)
})

t.test('IPv6 addresses count per /64, IPv4-mapped addresses as IPv4', async (t) => {
  const { throttle } = setup()
  await fail(t, throttle, 'bob', '2001:db8:1:2::1')
  await fail(t, throttle, 'carol', '2001:db8:1:2:ffff:ffff:ffff:fffe')
  await fail(t, throttle, 'dave', '2001:0db8:0001:0002:0:0:0:abc')
  t.equal(await guess(throttle, 'erin', '2001:db8:1:2:1234::5'), 1, 'the whole /64 is one client')
  t.equal(await guess(throttle, 'erin', '2001:db8:1:3::1'), undefined, 'the next /64 is another')

  for (const account of ['bob', 'carol', 'dave']) await fail(t, throttle, account, '192.0.2.1')
  t.equal(await guess(throttle, 'frank', '::ffff:192.0.2.1'), 1)
})
