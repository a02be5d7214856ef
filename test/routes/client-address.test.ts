import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp } from '../helper.js'

/** A failed login (unknown user) that carries the given X-Forwarded-For; returns the status code. */
async function failFrom (app: App, remoteAddress: string, forwardedFor?: string, username = `nobody${Math.random()}`.slice(0, 20)) {
  const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'wrong password!' }, remoteAddress, headers })
  return response.statusCode
}

/** The client address the service logged for its failed logins, in order. */
function loggedAddresses (logs: string[]): string[] {
  return logs.map((line) => JSON.parse(line) as { event?: string, address?: string })
    .filter((entry) => entry.event === 'login_failed')
    .map((entry) => entry.address ?? '')
}

t.test('without TRUST_PROXY a forged X-Forwarded-For changes nothing: the socket address is counted', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3' })
  const forged = ['198.51.100.1', '198.51.100.2', '198.51.100.3, 10.0.0.1', '127.0.0.1']
  t.equal(await failFrom(app, '203.0.113.9', forged[0]), 401)
  t.equal(await failFrom(app, '203.0.113.9', forged[1]), 401)
  t.equal(await failFrom(app, '203.0.113.9', forged[2]), 401)
  t.equal(await failFrom(app, '203.0.113.9', forged[3]), 429, 'a fourth "client" is still the same socket address')
  t.same(loggedAddresses(logs), ['203.0.113.9', '203.0.113.9', '203.0.113.9'])
  t.equal(await failFrom(app, '203.0.113.10', forged[0]), 401, 'the address it pretended to be is not blocked')
})

t.test('with TRUST_PROXY naming the proxy, the forwarded client address is used', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3', TRUST_PROXY: '10.0.0.1' })
  for (let i = 0; i < 3; i++) t.equal(await failFrom(app, '10.0.0.1', '198.51.100.1'), 401)
  t.equal(await failFrom(app, '10.0.0.1', '198.51.100.1'), 429, 'the client behind the proxy is throttled')
  t.equal(await failFrom(app, '10.0.0.1', '198.51.100.2'), 401, 'another client behind the same proxy is not')
  t.same(loggedAddresses(logs), ['198.51.100.1', '198.51.100.1', '198.51.100.1', '198.51.100.2'])
})

t.test('with TRUST_PROXY, a client cannot prepend addresses: the last untrusted hop counts', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3', TRUST_PROXY: '10.0.0.1' })
  // The proxy appends the address it saw; whatever the client wrote before it is ignored.
  for (const spoofed of ['1.1.1.1', '2.2.2.2', '3.3.3.3']) t.equal(await failFrom(app, '10.0.0.1', `${spoofed}, 198.51.100.1`), 401)
  t.equal(await failFrom(app, '10.0.0.1', '4.4.4.4, 198.51.100.1'), 429)
  t.same(loggedAddresses(logs), ['198.51.100.1', '198.51.100.1', '198.51.100.1'])
})

t.test('with TRUST_PROXY, a peer that is not the proxy is still counted by its socket address', async (t) => {
  const { app, logs } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '3', TRUST_PROXY: '10.0.0.1' })
  for (const forged of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) t.equal(await failFrom(app, '203.0.113.9', forged), 401)
  t.equal(await failFrom(app, '203.0.113.9', '198.51.100.4'), 429)
  t.same(loggedAddresses(logs), ['203.0.113.9', '203.0.113.9', '203.0.113.9'])
})

/** A login over a real TCP connection to 127.0.0.1 with a chosen X-Forwarded-For. */
async function failOverSocket (port: number, forwardedFor: string): Promise<number> {
  const body = JSON.stringify({ username: `nobody${Math.random()}`.slice(0, 20), password: 'wrong password!' })
  return await new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/auth/login',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': forwardedFor }
    }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

for (const [trustProxy, expected] of [[undefined, '127.0.0.1'], ['127.0.0.1', 'forwarded']] as const) {
  t.test(`over a real socket, TRUST_PROXY ${trustProxy ?? 'unset'}: the throttle keys on ${expected === 'forwarded' ? 'X-Forwarded-For' : 'the socket address'}`, async (t) => {
    const { app, logs } = await buildTestApp(t, { LOGIN_MAX_FAILURES: '2', ...(trustProxy ? { TRUST_PROXY: trustProxy } : {}) })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const statuses = []
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) statuses.push(await failOverSocket(port, client))
    if (expected === 'forwarded') {
      t.same(statuses, [401, 401, 401], 'three clients behind the trusted proxy, one failure each')
      t.same(loggedAddresses(logs), ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
    } else {
      t.same(statuses, [401, 401, 429], 'one socket address, whatever the header says')
      t.same(loggedAddresses(logs), ['127.0.0.1', '127.0.0.1'])
    }
  })
}
