import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '../../../src/logger.js'
import { createMemoryCounterStore, type CounterStore } from '../../../src/services/throttle/counter-store.js'
import { createFallbackCounterStore } from '../../../src/services/throttle/fallback-counter-store.js'
import { frozenClock } from '../../helper.js'

/** A working shared store that can be switched off, standing in for Redis going away and coming back. */
function switchable (store: CounterStore) {
  let up = true
  const guard = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A) => {
    if (!up) throw new Error("Stream isn't writeable")
    return await fn(...args)
  }
  return {
    set up (value: boolean) { up = value },
    store: {
      increment: guard(store.increment),
      incrementSpaced: guard(store.incrementSpaced),
      get: guard(store.get),
      decrement: guard(store.decrement),
      reset: guard(store.reset),
      close: store.close
    } satisfies CounterStore
  }
}

function setup () {
  const clock = frozenClock()
  const lines: Array<{ level: number, event?: string, msg: string }> = []
  const log = createLogger('info', new Writable({
    write (chunk, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean).map((line: string) => JSON.parse(line)))
      callback()
    }
  }))
  const shared = switchable(createMemoryCounterStore({ clock }))
  const local = createMemoryCounterStore({ clock })
  const counters = createFallbackCounterStore({ shared: shared.store, local, clock, log, retryIntervalMs: 1000 })
  return { clock, lines, shared, local, counters }
}

t.test('while the shared store is up, counts live there only', async (t) => {
  const { counters, local } = setup()
  await counters.increment('k', 60_000)
  await counters.increment('k', 60_000)
  t.equal((await counters.get('k')).count, 2)
  t.equal((await local.get('k')).count, 0)
})

t.test('an outage: counting goes on locally, one warning, and shared counting resumes after the retry interval', async (t) => {
  const { counters, shared, local, clock, lines } = setup()
  await counters.increment('k', 60_000)
  shared.up = false
  for (let i = 0; i < 5; i++) await counters.increment('k', 60_000)
  t.equal((await local.get('k')).count, 5, 'failures during the outage are counted in memory')
  t.equal((await counters.get('k')).count, 5)
  const warnings = lines.filter((l) => l.event === 'throttle_shared_unavailable')
  t.equal(warnings.length, 1, 'one warning for the whole outage')
  t.equal(warnings[0]?.level, 40)

  shared.up = true
  await counters.increment('k', 60_000)
  t.equal((await local.get('k')).count, 6, 'within the retry interval the shared store is not tried')
  clock.advance(1000)
  const next = await counters.increment('k', 60_000)
  t.equal(next.count, 2, 'after it, increments go to the shared store again')
  t.equal(lines.filter((l) => l.event === 'throttle_shared_restored').length, 1)
  t.equal((await counters.get('k')).count, 6, 'reads take the larger count: the outage did not reset the window')

  shared.up = false
  await counters.get('k')
  t.equal(lines.filter((l) => l.event === 'throttle_shared_unavailable').length, 2, 'a new outage warns again, once')
})

t.test('reset clears both counts', async (t) => {
  const { counters, shared, clock } = setup()
  shared.up = false
  await counters.increment('k', 60_000)
  shared.up = true
  clock.advance(1000)
  await counters.increment('k', 60_000)
  await counters.reset('k')
  t.equal((await counters.get('k')).count, 0)
})
