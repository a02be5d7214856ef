import { Agent, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import t from 'tap'
import { buildTestApp, PASSWORD, register } from '../helper.js'
import { brokenInvariant, tokenContext } from '../fixtures/hostile-app.js'
import { stressRequest, type HostileRequest } from '../fixtures/hostile.js'

// heapUsed only means something right after a full collection; this exposes gc() without a node flag for the suite.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const HOSTILE_REQUESTS = 3000
const IN_FLIGHT = 48
const USERS = ['alice', 'bob', 'carol', 'dave']
const ROUNDS_PER_USER = 5

interface Answer { status: number, headers: Record<string, unknown>, body: string }

function send (port: number, agent: Agent, { method, url, headers, payload, forwardedFor }: HostileRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = payload === undefined ? undefined : Buffer.from(payload)
    const req = request({
      host: '127.0.0.1',
      port,
      agent,
      method,
      path: url,
      timeout: 60_000,
      headers: { ...headers, 'x-forwarded-for': forwardedFor, ...(body ? { 'content-length': body.length } : {}) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 60 s`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** Runs `requests` with at most `limit` in flight; resolves with every answer in order. */
async function pool<T> (items: readonly T[], limit: number, run: (item: T) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      answers[index] = await run(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return answers
}

function heapUsedAfterGc (): number {
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}

t.test(`${HOSTILE_REQUESTS} hostile requests over a socket while users log in: every user request succeeds, memory comes back`, async (t) => {
  const { app, config, logs } = await buildTestApp(t, { LOG_LEVEL: 'warn', TRUST_PROXY: '127.0.0.1' })
  for (const user of USERS) await register(app, user)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT + USERS.length })
  t.teardown(() => agent.destroy())

  const battery = fc.sample(stressRequest(tokenContext(app, config, { now: () => Date.now() })), { numRuns: HOSTILE_REQUESTS, seed: 8 })
  const json = (value: unknown) => JSON.stringify(value)
  const post = (url: string, body: unknown, client: string, token?: string): HostileRequest => ({
    method: 'POST', url, payload: json(body), forwardedFor: client,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }
  })

  /** One user's session: log in, call the API, refresh, call again. Returns every answer. */
  async function userSession (user: string, index: number): Promise<Answer[]> {
    const client = `198.51.100.${index + 1}`
    const answers: Answer[] = []
    for (let round = 0; round < ROUNDS_PER_USER; round++) {
      const login = await send(port, agent, post('/auth/login', { username: user, password: PASSWORD }, client))
      answers.push(login)
      if (login.status !== 200) continue
      const tokens = JSON.parse(login.body) as { access_token: string, refresh_token: string }
      answers.push(await send(port, agent, { method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${tokens.access_token}` }, payload: undefined, forwardedFor: client }))
      const refreshed = await send(port, agent, post('/auth/refresh', { refresh_token: tokens.refresh_token }, client))
      answers.push(refreshed)
      if (refreshed.status !== 200) continue
      const next = JSON.parse(refreshed.body) as { access_token: string }
      answers.push(await send(port, agent, { method: 'GET', url: '/auth/me', headers: { authorization: `Bearer ${next.access_token}` }, payload: undefined, forwardedFor: client }))
    }
    return answers
  }

  const storm = async () => await Promise.all([
    pool(battery, IN_FLIGHT, async (item) => await send(port, agent, item)),
    ...USERS.map(async (user, index) => await userSession(user, index))
  ])
  // A first storm warms up what a running process keeps anyway (compiled code, pools, bounded caches); the
  // baseline is taken after it, so growth during the second, identical storm is what requests leave behind.
  await storm()
  const baseline = heapUsedAfterGc()
  const [hostile, ...sessions] = await storm()

  const legit = sessions.flat()
  t.equal(legit.length, USERS.length * ROUNDS_PER_USER * 4, 'every user request got an answer')
  const failedLegit = legit.filter((answer) => answer.status !== 200)
  t.same(failedLegit.map((answer) => `${answer.status} ${answer.body.slice(0, 120)}`), [], 'every login, call and refresh of the users succeeded')

  const statuses: Record<number, number> = {}
  for (const answer of hostile ?? []) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
  t.comment(`hostile statuses ${json(statuses)}`)
  const broken = (hostile ?? []).map((answer, i) => brokenInvariant(battery[i]?.method ?? '', answer.status, answer.headers, answer.body)).filter(Boolean)
  t.same(broken.slice(0, 5), [], 'no hostile request got a 5xx or a malformed error')
  t.notOk(logs.some((line) => (JSON.parse(line) as { level: number }).level >= 50), 'nothing was logged as an error')
  t.equal((await send(port, agent, { method: 'GET', url: '/healthz', headers: {}, payload: undefined, forwardedFor: '192.0.2.1' })).status, 200, 'still up')

  const after = heapUsedAfterGc()
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`
  t.comment(`heapUsed after gc: baseline ${mb(baseline)}, after ${mb(after)}`)
  // 2 MB is under 1 KB for each of the 3,080 requests: a per-request leak of any size worth worrying about exceeds it.
  t.ok(after - baseline < 2 * 1048576, `heap came back near its baseline (${mb(after - baseline)} difference)`)
})
