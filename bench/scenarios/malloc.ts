import { setTimeout as sleep } from 'node:timers/promises'
import { assertClean, closedLoop } from '../lib/load.js'
import type { Profile } from '../lib/profile.js'
import { startTessera, type TesseraDb } from '../lib/tessera.js'
import { loginConnections, loginSpec } from './login.js'

/**
 * Diagnostic (full runs): RSS once a burst of logins is over, with glibc's default malloc and with
 * MALLOC_MMAP_THRESHOLD_ fixed at 128 KiB. Each argon2id hash takes a 19 MiB buffer on a libuv thread. glibc raises
 * its mmap threshold to the size of the first such buffer freed, so later buffers come from per-thread arenas
 * and stay resident after the hash; a fixed threshold keeps them mmapped and returns them to the OS on free.
 * Both leave out the MALLOC_ARENA_MAX=1 that Tessera is started with (src/runtime.ts), which the main measurements
 * include: one arena keeps one buffer resident, whatever the number of threads.
 */
export async function runMallocDiagnostic ({ env, db, users, hashConcurrency, profile, logDir }: {
  env: Record<string, string>
  db: TesseraDb
  users: number
  hashConcurrency: number
  profile: Profile
  logDir: string
}) {
  const measure = async (name: string, extra: Record<string, string>) => {
    const server = await startTessera({ name, env: { ...env, ...extra }, db, logDir, glibcDefaults: true })
    try {
      await sleep(1000)
      const idle = server.rssMiB()
      const logins = await closedLoop({ url: server.url, connections: loginConnections(hashConcurrency), seconds: profile.loginRoundSeconds, spec: loginSpec(users) })
      assertClean(name, logins)
      await sleep(2000)
      return { idleMiB: idle, afterLoginsMiB: server.rssMiB(), logins: logins.requests }
    } finally {
      await server.stop()
    }
  }
  return {
    glibcDefault: await measure('tessera-malloc-default', {}),
    fixedMmapThreshold: await measure('tessera-malloc-threshold', { MALLOC_MMAP_THRESHOLD_: '131072' })
  }
}
