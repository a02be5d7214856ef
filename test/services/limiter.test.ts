import t from 'tap'
import { AppError } from '../../src/errors.js'
import { createLimiter } from '../../src/services/passwords/limiter.js'

/** A task the test finishes by hand, so "running" and "waiting" are states we control, not timings. */
function gate<T = void> () {
  let open!: (value: T) => void
  let fail!: (error: Error) => void
  const promise = new Promise<T>((resolve, reject) => { open = resolve; fail = reject })
  return { promise, open, fail }
}

/** Lets every pending promise callback run. */
const settle = async () => await new Promise<void>((resolve) => setImmediate(resolve))

t.test('never runs more than `concurrency` tasks at once', async (t) => {
  const limiter = createLimiter({ concurrency: 2, queueLimit: 10 })
  let running = 0
  let peak = 0
  const gates = Array.from({ length: 6 }, () => gate<number>())
  const results = gates.map(async (g, i) => await limiter.run(async () => {
    running++
    peak = Math.max(peak, running)
    try {
      return await g.promise + i
    } finally {
      running--
    }
  }))
  await settle()
  t.equal(limiter.active, 2)
  t.equal(limiter.queued, 4)
  t.equal(running, 2)
  for (const g of gates) {
    g.open(100)
    await settle()
    t.ok(running <= 2, 'at most two running')
  }
  t.same(await Promise.all(results), [100, 101, 102, 103, 104, 105], 'every task ran and returned its value')
  t.equal(peak, 2)
  t.equal(limiter.active, 0, 'every slot is given back')
  t.equal(limiter.queued, 0)
})

t.test('a full queue rejects at once with 503 SERVER_BUSY and Retry-After', async (t) => {
  const limiter = createLimiter({ concurrency: 1, queueLimit: 2 })
  const hold = gate()
  const started: number[] = []
  const accepted = [0, 1, 2].map(async (i) => await limiter.run(async () => { started.push(i); await hold.promise }))
  await settle()
  t.equal(limiter.active, 1)
  t.equal(limiter.queued, 2)

  const refused = limiter.run(async () => { started.push(99) })
  await t.rejects(refused, AppError)
  const error = await refused.then(() => undefined, (e: unknown) => e as AppError)
  t.equal(error?.code, 'SERVER_BUSY')
  t.equal(error?.statusCode, 503)
  t.equal(error?.retryAfter, 1)
  t.equal(limiter.queued, 2, 'the refused task took no place in the queue')

  hold.open()
  await Promise.all(accepted)
  t.same(started, [0, 1, 2], 'the refused task never ran')
  await limiter.run(async () => { started.push(3) })
  t.same(started, [0, 1, 2, 3], 'once the queue drains, tasks are accepted again')
})

t.test('waiting tasks start in the order they arrived (FIFO)', async (t) => {
  const limiter = createLimiter({ concurrency: 1, queueLimit: 100 })
  const order: string[] = []
  const gates = new Map<string, ReturnType<typeof gate<void>>>()
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
  const runs = names.map(async (name) => {
    const g = gate<void>()
    gates.set(name, g)
    await limiter.run(async () => { order.push(name); await g.promise })
  })
  await settle()
  // Let them finish in reverse order of arrival: which task runs next must still be decided by the queue.
  for (const name of [...names].reverse()) {
    gates.get(name)?.open()
    await settle()
  }
  await Promise.all(runs)
  t.same(order, names)
})

t.test('a task arriving as a slot frees up does not overtake the queue', async (t) => {
  const limiter = createLimiter({ concurrency: 1, queueLimit: 10 })
  const order: string[] = []
  const first = gate()
  const a = limiter.run(async () => { order.push('a'); await first.promise })
  const b = limiter.run(async () => { order.push('b') })
  // Submitted the moment `a` settles, while `b` is still waiting for the slot `a` hands over.
  const late = a.then(async () => await limiter.run(async () => { order.push('late') }))
  await settle()
  first.open()
  await Promise.all([a, b, late])
  t.same(order, ['a', 'b', 'late'])
})

t.test('a failing task gives its slot back and its error to its caller', async (t) => {
  const limiter = createLimiter({ concurrency: 1, queueLimit: 10 })
  const failing = gate()
  const first = limiter.run(async () => await failing.promise)
  const second = limiter.run(async () => 'second ran')
  await settle()
  failing.fail(new Error('argon2 blew up'))
  await t.rejects(first, { message: 'argon2 blew up' })
  t.equal(await second, 'second ran')
  t.equal(limiter.active, 0)
})

t.test('onWait reports 0 for a free slot and the wait of a queued task', async (t) => {
  const waits: number[] = []
  const limiter = createLimiter({ concurrency: 1, queueLimit: 10, onWait: (ms) => waits.push(ms) })
  const hold = gate()
  const first = limiter.run(async () => await hold.promise)
  const second = limiter.run(async () => undefined)
  await settle()
  t.same(waits, [0], 'only the running task has reported so far')
  hold.open()
  await Promise.all([first, second])
  t.equal(waits.length, 2)
  t.ok((waits[1] ?? -1) >= 0)
})
