import { open } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { PASSWORD } from '../helper.js'
import { ensureBuilt, post, startServer } from '../helpers/server-process.js'

const WORKERS = 8
const KILL_AFTER = 30

/** SQLite file header bytes 18 and 19 are 2 when the database is in WAL mode (sqlite.org/fileformat2.html). */
async function inWalMode (file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const { buffer } = await handle.read(Buffer.alloc(20), 0, 20, 0)
    return buffer[18] === 2 && buffer[19] === 2
  } finally {
    await handle.close()
  }
}

t.test('every acknowledged registration survives kill -9 of the process under load', async (t) => {
  await ensureBuilt()
  const dir = t.testdir()
  const env = { KEYS_DIR: join(dir, 'keys'), DATABASE_URL: `sqlite:${join(dir, 'auth.db')}`, HASH_CONCURRENCY: '2' }
  const first = await startServer(t, env)

  const acknowledged: string[] = []
  let inFlightAtKill = 0
  let inFlight = 0
  let killed = false
  async function worker (w: number) {
    for (let i = 0; !killed; i++) {
      const username = `user-${w}-${i}`
      inFlight++
      try {
        const { status } = await post(`${first.url}/auth/register`, { username, password: PASSWORD })
        if (status === 201) acknowledged.push(username)
      } catch {
        return // the process died under this request: not acknowledged, so no promise was made
      } finally {
        inFlight--
      }
      if (!killed && acknowledged.length >= KILL_AFTER) {
        killed = true
        inFlightAtKill = inFlight
        first.child.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))
  t.same(await first.exited, { code: null, signal: 'SIGKILL' }, 'the process was killed with SIGKILL')
  t.comment(`${acknowledged.length} registrations acknowledged, ${inFlightAtKill} in flight at the kill`)
  t.ok(inFlightAtKill > 0, 'killed mid-stream, with registrations in flight')
  t.ok(await inWalMode(join(dir, 'auth.db')), 'the database file is in WAL mode')

  const second = await startServer(t, env)
  const failed: string[] = []
  const queue = [...acknowledged]
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let username = queue.pop(); username !== undefined; username = queue.pop()) {
      const { status } = await post(`${second.url}/auth/login`, { username, password: PASSWORD })
      if (status !== 200) failed.push(`${username}: ${status}`)
    }
  }))
  t.same(failed, [], `all ${acknowledged.length} acknowledged users log in after the restart`)
})
