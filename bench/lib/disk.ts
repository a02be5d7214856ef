import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { percentile } from './open-loop.js'

/**
 * How fast the disk under the bench's folder makes a small write durable. SQLite with synchronous=FULL makes
 * one such fsync per commit, so this bounds commits per second (logins, refreshes) on this machine.
 */
export function fsyncRate (dir: string, seconds: number) {
  const file = join(dir, 'fsync-probe')
  const fd = openSync(file, 'w')
  const block = Buffer.alloc(4096, 1)
  const latencies: number[] = []
  const start = performance.now()
  try {
    while (performance.now() - start < seconds * 1000) {
      const t = performance.now()
      writeSync(fd, block)
      fsyncSync(fd)
      latencies.push(performance.now() - t)
    }
  } finally {
    closeSync(fd)
    unlinkSync(file)
  }
  const sorted = Float64Array.from(latencies).sort()
  return { perSecond: latencies.length / ((performance.now() - start) / 1000), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) }
}
