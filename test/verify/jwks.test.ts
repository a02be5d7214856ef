import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { createVerifier, VerifyError } from '../../src/verify/index.js'
import { makeKey, manualClock, recordingLogger, signToken, startLocalIssuer } from './fixtures/local-issuer.js'

/** Bounded wait for something a background fetch does (the kit never makes the caller wait for it). */
async function until (probe: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return true
    await delay(10)
  }
  return false
}

const rejection = async (promise: Promise<unknown>) => await promise.then(() => undefined, (error: unknown) => error as VerifyError)

t.test('the JWKS is fetched once and reused while its max-age lasts, then refreshed in the background', async (t) => {
  const { issuer, state } = await startLocalIssuer(t, { maxAge: 60 })
  const [key] = state.keys
  const clock = manualClock()
  const verifier = createVerifier({ issuer, audience: 'api', clock, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())

  for (let i = 0; i < 20; i++) await verifier.verify(await signToken(key!, issuer))
  t.equal(state.jwksFetches, 1, 'twenty tokens, one fetch')
  t.equal(state.discoveryFetches, 1)

  clock.advance(59_000)
  await verifier.verify(await signToken(key!, issuer))
  t.equal(state.jwksFetches, 1, 'still fresh')

  clock.advance(2_000)
  const user = await verifier.verify(await signToken(key!, issuer))
  t.equal(user.username, 'alice', 'a stale JWKS still serves the known key at once')
  t.ok(await until(() => state.jwksFetches === 2), 'and is refreshed in the background')
  t.equal(state.discoveryFetches, 1, 'discovery is read once')
})

t.test('random kids cause at most one JWKS fetch per cooldown', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const clock = manualClock()
  const verifier = createVerifier({ issuer, audience: 'api', clock, cooldown: 30, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  await verifier.verify(await signToken(key!, issuer))
  t.equal(state.jwksFetches, 1)

  clock.advance(31_000)
  const errors = await Promise.all(Array.from({ length: 50 }, async () =>
    await rejection(verifier.verify(await signToken(key!, issuer, { header: { kid: randomUUID() } })))))
  t.ok(errors.every((error) => error?.code === 'TOKEN_INVALID'), 'every unknown kid is refused')
  t.equal(state.jwksFetches, 2, 'fifty random kids, one refetch')

  for (let i = 0; i < 50; i++) await rejection(verifier.verify(await signToken(key!, issuer, { header: { kid: randomUUID() } })))
  t.equal(state.jwksFetches, 2, 'none at all within the cooldown')

  clock.advance(30_000)
  await rejection(verifier.verify(await signToken(key!, issuer, { header: { kid: randomUUID() } })))
  t.equal(state.jwksFetches, 3, 'one more after the cooldown')
})

t.test('a key published after the first fetch is picked up by an unknown-kid refetch', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const clock = manualClock()
  const verifier = createVerifier({ issuer, audience: 'api', clock, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  await verifier.verify(await signToken(state.keys[0]!, issuer))

  const next = makeKey('ES256')
  state.keys = [...state.keys, next]
  clock.advance(30_000)
  const user = await verifier.verify(await signToken(next, issuer, { claims: { username: 'bob' } }))
  t.equal(user.username, 'bob')
  t.equal(state.jwksFetches, 2)
})

t.test('a key removed from the JWKS stops verifying after the next refresh', async (t) => {
  const { issuer, state } = await startLocalIssuer(t, { maxAge: 10 })
  const [old] = state.keys
  const clock = manualClock()
  const verifier = createVerifier({ issuer, audience: 'api', clock, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const token = await signToken(old!, issuer)
  await verifier.verify(token)

  state.keys = [makeKey('ES256')]
  clock.advance(31_000)
  await verifier.verify(token) // served from the stale set while the refresh runs
  t.ok(await until(async () => (await rejection(verifier.verify(token)))?.code === 'TOKEN_INVALID'), 'then refused')
  t.equal(state.jwksFetches, 2)
})

t.test('when the JWKS cannot be fetched, keys already known keep working and the outage is logged once', async (t) => {
  const { issuer, state } = await startLocalIssuer(t, { maxAge: 10 })
  const [key] = state.keys
  const clock = manualClock()
  const { lines, logger } = recordingLogger()
  const verifier = createVerifier({ issuer, audience: 'api', clock, logger })
  t.teardown(() => verifier.close())
  await verifier.verify(await signToken(key!, issuer))

  state.jwksMode = 'fail'
  for (let round = 0; round < 3; round++) {
    clock.advance(31_000)
    const fetches = state.jwksFetches
    t.equal((await verifier.verify(await signToken(key!, issuer))).username, 'alice')
    t.ok(await until(() => state.jwksFetches === fetches + 1), 'a refresh was tried')
    t.ok(await until(() => lines.some((line) => /JWKS fetch failed/.test(line.message))))
  }
  t.equal(lines.filter((line) => line.level === 'warn' && /JWKS fetch failed/.test(line.message)).length, 1, 'one warning per outage')

  state.jwksMode = 'ok'
  clock.advance(31_000)
  await verifier.verify(await signToken(key!, issuer))
  t.ok(await until(() => lines.some((line) => line.level === 'info' && /JWKS fetched again/.test(line.message))), 'recovery is logged')
})

t.test('a JWKS server that never answers costs one timeout, not a hang', async (t) => {
  t.setTimeout(30_000)
  const { issuer, state } = await startLocalIssuer(t)
  state.jwksMode = 'hang'
  const { lines, logger } = recordingLogger()
  const verifier = createVerifier({ issuer, audience: 'api', timeout: 0.2, logger })
  t.teardown(() => verifier.close())

  const error = await rejection(verifier.verify(await signToken(state.keys[0]!, issuer)))
  t.equal(error?.code, 'TOKEN_INVALID', 'refused as an unknown kid once the fetch gave up')
  t.equal(error?.statusCode, 401)
  const warning = lines.find((line) => /JWKS fetch failed/.test(line.message))
  t.match(warning?.object, { reason: /timeout|aborted/i })
})

t.test('an issuer that cannot be reached at all: every token is a 401, never a hang or a 5xx', async (t) => {
  const { issuer, server } = await startLocalIssuer(t)
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  const verifier = createVerifier({ issuer, audience: 'api', logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  const error = await rejection(verifier.verify(await signToken(makeKey(), issuer)))
  t.equal(error?.code, 'TOKEN_INVALID')
})
