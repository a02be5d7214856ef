import t from 'tap'
import type { App } from '../../src/app.js'
import { buildTestApp, frozenClock, login, PASSWORD, register } from '../helper.js'

const registerFrom = async (app: App, username: string, remoteAddress: string) =>
  await app.inject({ method: 'POST', url: '/auth/register', payload: { username, password: PASSWORD }, remoteAddress })

const refreshFrom = async (app: App, refreshToken: string, remoteAddress: string) =>
  await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refresh_token: refreshToken }, remoteAddress })

t.test('registrations per address: REGISTER_MAX_PER_WINDOW per REGISTER_WINDOW, then 429 until the window ends', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { REGISTER_MAX_PER_WINDOW: '2', REGISTER_WINDOW: '600' }, { clock })
  t.equal((await registerFrom(app, 'alice', '203.0.113.5')).statusCode, 201)
  t.equal((await registerFrom(app, 'alice', '203.0.113.5')).statusCode, 409, 'a taken name counts too (it would enumerate usernames)')
  const third = await registerFrom(app, 'bob', '203.0.113.5')
  t.equal(third.statusCode, 429)
  t.equal(third.json().code, 'TOO_MANY_REQUESTS')
  t.equal(third.headers['retry-after'], '600')
  t.equal(await app.services.store.users.findByUsername('bob'), undefined, 'nothing was created')
  t.equal((await registerFrom(app, 'bob', '198.51.100.7')).statusCode, 201, 'other addresses are not affected')

  clock.advance(420_000)
  t.equal((await registerFrom(app, 'carol', '203.0.113.5')).headers['retry-after'], '180', 'Retry-After counts down')
  clock.advance(180_000)
  t.equal((await registerFrom(app, 'carol', '203.0.113.5')).statusCode, 201, 'a new window has room again')
})

t.test('invalid registration bodies are answered 400 without counting', async (t) => {
  const { app } = await buildTestApp(t, { REGISTER_MAX_PER_WINDOW: '1' })
  for (let i = 0; i < 3; i++) {
    const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { username: 'x' }, remoteAddress: '203.0.113.5' })
    t.equal(response.statusCode, 400)
  }
  t.equal((await registerFrom(app, 'alice', '203.0.113.5')).statusCode, 201)
})

t.test('refreshes per address: REFRESH_MAX_PER_WINDOW per REFRESH_WINDOW, then 429', async (t) => {
  const clock = frozenClock()
  const { app } = await buildTestApp(t, { REFRESH_MAX_PER_WINDOW: '2', REFRESH_WINDOW: '60' }, { clock })
  await register(app, 'alice')
  let token = (await login(app)).refresh_token
  for (let i = 0; i < 2; i++) {
    const response = await refreshFrom(app, token, '203.0.113.5')
    t.equal(response.statusCode, 200)
    token = response.json<{ refresh_token: string }>().refresh_token
  }
  const third = await refreshFrom(app, token, '203.0.113.5')
  t.equal(third.statusCode, 429)
  t.equal(third.headers['retry-after'], '60')
  const elsewhere = await refreshFrom(app, token, '198.51.100.7')
  t.equal(elsewhere.statusCode, 200, 'the refused request did not spend the token; another address may use it')
  t.equal((await refreshFrom(app, 'not-a-token', '203.0.113.5')).statusCode, 429, 'bad tokens count as requests too')
})

t.test('the defaults leave room for ordinary use from one address', async (t) => {
  const { app, config } = await buildTestApp(t)
  t.equal(config.registerMaxPerWindow, 30)
  t.equal(config.refreshMaxPerWindow, 300)
  for (let i = 0; i < 5; i++) await register(app, `user${i}`)
  let token = (await login(app, 'user0')).refresh_token
  for (let i = 0; i < 20; i++) {
    const response = await refreshFrom(app, token, '127.0.0.1')
    t.equal(response.statusCode, 200)
    token = response.json<{ refresh_token: string }>().refresh_token
  }
})
