import argon2 from 'argon2'

/**
 * The raw argon2id rate, measured in its own process like a server would be: `concurrency` verifications in
 * flight at once (HASH_CONCURRENCY) on the libuv pool, with the same parameters and hash Tessera checks at login.
 * The parent sends { hash, password, concurrency } once, then { seconds } per round; each round answers
 * { verifications, seconds, cpuMs }.
 */
interface Setup { hash: string, password: string, concurrency: number }

let setup: Setup | undefined

async function round (seconds: number) {
  if (!setup) throw new Error('no setup')
  const { hash, password, concurrency } = setup
  const start = performance.now()
  const cpu0 = process.cpuUsage()
  const deadline = start + seconds * 1000
  let verifications = 0
  const loop = async () => {
    while (performance.now() < deadline) {
      if (!await argon2.verify(hash, password)) throw new Error('argon2 verify failed: wrong fixture')
      verifications++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  const cpu = process.cpuUsage(cpu0)
  // cpuUsage covers every thread of the process, so the hashing threads of the libuv pool are included.
  return { verifications, seconds: (performance.now() - start) / 1000, cpuMs: (cpu.user + cpu.system) / 1000 }
}

process.on('message', (message: Setup | { seconds: number }) => {
  if ('hash' in message) {
    setup = message
    process.send?.({ ready: true })
    return
  }
  round(message.seconds).then((result) => process.send?.(result), (error: unknown) => {
    process.send?.({ error: (error as Error).message })
  })
})
