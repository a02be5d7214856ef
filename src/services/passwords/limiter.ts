import { AppError } from '../../errors.js'

export interface Limiter {
  /** Runs `task` when a slot is free; rejects at once with 503 SERVER_BUSY when the queue is full. */
  run<T> (task: () => Promise<T>): Promise<T>
  readonly active: number
  readonly queued: number
}

/**
 * At most `concurrency` tasks at once and at most `queueLimit` waiting. Bounding both keeps argon2 from
 * taking every libuv thread (and the event loop's latency with it) during a login storm, and turns
 * overload into a fast, honest 503 instead of an ever-growing queue of timed-out requests.
 */
export function createLimiter ({ concurrency, queueLimit, onWait }: {
  concurrency: number
  queueLimit: number
  /** Called with the milliseconds a task waited for its slot (for metrics). */
  onWait?: (ms: number) => void
}): Limiter {
  let active = 0
  const waiting: Array<() => void> = []

  function release () {
    const next = waiting.shift()
    if (next) next()
    else active--
  }

  return {
    get active () { return active },
    get queued () { return waiting.length },
    async run (task) {
      if (active >= concurrency) {
        if (waiting.length >= queueLimit) {
          throw new AppError('SERVER_BUSY', 'The server is busy; try again shortly', { retryAfter: 1, reason: 'hash queue full' })
        }
        const queuedAt = performance.now()
        // The slot is handed over directly by release(), so `active` never dips and a late arrival cannot jump the queue.
        await new Promise<void>((resolve) => waiting.push(resolve))
        onWait?.(performance.now() - queuedAt)
      } else {
        active++
        onWait?.(0)
      }
      try {
        return await task()
      } finally {
        release()
      }
    }
  }
}
