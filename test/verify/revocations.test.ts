import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { createVerifier, type VerifyError } from '../../src/verify/index.js'
import { emptyFeed, manualClock, recordingLogger, signToken, startLocalIssuer } from './fixtures/local-issuer.js'

const verdict = async (promise: Promise<unknown>) => await promise.then(() => 'OK', (error: VerifyError) => error.code)

/** The feed is polled on a real timer: wait (bounded) until the verifier's answer changes. */
async function until (probe: () => Promise<boolean>) {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return true
    await delay(10)
  }
  return false
}

t.test('tokens of revoked sessions and tokens issued before a user\'s not-before are refused', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const now = Math.floor(Date.now() / 1000)
  state.feed = { status: 200, body: emptyFeed({ revoked_sessions: ['s-revoked'], user_not_before: { 'u-reset': now }, cursor: '7' }) }
  const verifier = createVerifier({ issuer, audience: 'api', revocations: { interval: 0.05 }, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  await verifier.ready()

  const revoked = await verifier.verify(await signToken(key!, issuer, { claims: { sid: 's-revoked' } })).catch((error: VerifyError) => error)
  t.match(revoked, { code: 'TOKEN_INVALID', statusCode: 401, message: 'The access token has been revoked' })
  t.equal(await verdict(verifier.verify(await signToken(key!, issuer, { claims: { sid: 's-live' } }))), 'OK')
  t.equal(await verdict(verifier.verify(await signToken(key!, issuer, { claims: { sub: 'u-reset' }, iat: now - 1 }))), 'TOKEN_INVALID')
  t.equal(await verdict(verifier.verify(await signToken(key!, issuer, { claims: { sub: 'u-reset' }, iat: now }))), 'OK',
    'a login in the same second as the reset is kept')

  t.ok(await until(async () => state.feedQueries.includes('?since=7')), 'later polls pass the cursor back')
  t.equal(state.feedQueries[0], '', 'the first poll asks for the whole live list')
})

t.test('keep (the default): while the feed is down the last list stays in force, and the outage is logged once', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  state.feed = { status: 200, body: emptyFeed({ revoked_sessions: ['s-revoked'] }) }
  const { lines, logger } = recordingLogger()
  const verifier = createVerifier({ issuer, audience: 'api', revocations: { interval: 0.02 }, logger })
  t.teardown(() => verifier.close())
  await verifier.ready()

  state.feed = { status: 503 }
  const polls = state.feedQueries.length
  t.ok(await until(async () => state.feedQueries.length >= polls + 3), 'polling goes on')
  t.equal(await verdict(verifier.verify(await signToken(key!, issuer, { claims: { sid: 's-revoked' } }))), 'TOKEN_INVALID')
  t.equal(await verdict(verifier.verify(await signToken(key!, issuer, { claims: { sid: 's-other' } }))), 'OK')
  const warnings = lines.filter((line) => line.level === 'warn' && /revocation feed unavailable: keeping the last list/.test(line.message))
  t.equal(warnings.length, 1)

  state.feed = { status: 200, body: emptyFeed() }
  t.ok(await until(async () => lines.some((line) => /revocation feed reachable again/.test(line.message))), 'recovery is logged')
})

t.test('fail-closed: every token is refused with a 401 while the feed is down, and accepted again when it answers', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const { lines, logger } = recordingLogger()
  const verifier = createVerifier({ issuer, audience: 'api', revocations: { interval: 0.02, onUnavailable: 'fail-closed' }, logger })
  t.teardown(() => verifier.close())
  await verifier.ready()
  const token = await signToken(key!, issuer)
  t.equal(await verdict(verifier.verify(token)), 'OK')

  state.feed = { status: 503 }
  t.ok(await until(async () => await verdict(verifier.verify(token)) === 'TOKEN_INVALID'), 'refused during the outage')
  t.ok(lines.some((line) => line.level === 'warn' && /refusing every token/.test(line.message)))

  state.feed = { status: 200, body: emptyFeed() }
  t.ok(await until(async () => await verdict(verifier.verify(token)) === 'OK'), 'accepted after recovery')
})

t.test('at start-up an unreachable feed means no list (keep) or no tokens (fail-closed)', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  state.feed = { status: 500 }
  const token = await signToken(key!, issuer)
  const keep = createVerifier({ issuer, audience: 'api', revocations: true, logger: recordingLogger().logger })
  const closed = createVerifier({ issuer, audience: 'api', revocations: { onUnavailable: 'fail-closed' }, logger: recordingLogger().logger })
  t.teardown(() => { keep.close(); closed.close() })
  t.equal(await verdict(keep.verify(token)), 'OK')
  t.equal(await verdict(closed.verify(token)), 'TOKEN_INVALID')
})

t.test('entries are forgotten once every token they could affect has expired', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  const [key] = state.keys
  const clock = manualClock()
  state.feed = { status: 200, body: emptyFeed({ revoked_sessions: ['s-1'], retain_seconds: 60 }) }
  const verifier = createVerifier({ issuer, audience: 'api', clock, revocations: { interval: 0.02 }, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  await verifier.ready()
  // A token that, by the kit's clock, is still alive long after the entry: only retention decides its fate here.
  const token = await signToken(key!, issuer, { claims: { sid: 's-1' } })
  t.equal(await verdict(verifier.verify(token)), 'TOKEN_INVALID')

  state.feed = { status: 200, body: emptyFeed({ cursor: '1' }) }
  clock.advance(59_000)
  const polls = state.feedQueries.length
  t.ok(await until(async () => state.feedQueries.length >= polls + 2))
  t.equal(await verdict(verifier.verify(token)), 'TOKEN_INVALID', 'kept for retain_seconds')
  clock.advance(2_000)
  t.ok(await until(async () => await verdict(verifier.verify(token)) === 'OK'), 'dropped afterwards')
})

t.test('a cursor the feed no longer understands starts over with the full list', async (t) => {
  const { issuer, state } = await startLocalIssuer(t)
  state.feed = { status: 200, body: emptyFeed({ cursor: '99' }) }
  const verifier = createVerifier({ issuer, audience: 'api', revocations: { interval: 0.02 }, logger: recordingLogger().logger })
  t.teardown(() => verifier.close())
  await verifier.ready()
  state.feed = { status: 400, body: { statusCode: 400, code: 'VALIDATION_FAILED' } }
  t.ok(await until(async () => state.feedQueries.slice(1).includes('')), 'asks again without since')
})
