import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import t from 'tap'
import { startDemo, type Demo } from '../../examples/spa/serve.js'

/**
 * The demo app in a real browser, on its own origin, against a real Tessera: CORS, bearer tokens, timers
 * and storage are the browser's own. Waiting is the point here (the page's refresh timer must fire past
 * the access token's lifetime), so this test waits for what the page shows, never for a fixed time.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'
const root = fileURLToPath(new URL('../..', import.meta.url))
const ARTIFACTS = join(root, 'test-artifacts')
const TTL = 2
const PASSWORD = 'correct horse battery staple'

if (!existsSync(CHROMIUM)) {
  const notice = `${CHROMIUM} is missing (apt-get install -y chromium, or set CHROMIUM_PATH)`
  if (process.env['CI']) {
    t.fail(`${notice}: CI must run the browser test`)
  } else {
    process.stderr.write(`NOTICE: skipping the SPA browser test: ${notice}\n`)
    t.plan(0, `skipped: ${notice}`)
  }
} else {
  await run()
}

async function launch (dir: string): Promise<BrowserContext> {
  // A persistent context is how Playwright takes a fresh --user-data-dir (it refuses the bare flag).
  return await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 900, height: 900 }
  })
}

/**
 * The browser globals the page callbacks below use. Declared here, in this module only, instead of adding the
 * DOM library to the whole (Node) project, where its setTimeout and fetch types would clash with Node's.
 */
declare const document: { getElementById (id: string): { textContent: string | null } | null, body: { dataset: Record<string, string | undefined> } }
declare const sessionStorage: Record<string, string> & { getItem (key: string): string | null }
declare const localStorage: Record<string, string>

const text = async (page: Page, selector: string) => (await page.textContent(selector))?.trim() ?? ''

async function run () {
  const dir = t.testdir()
  let demo: Demo
  let context: BrowserContext
  t.before(async () => {
    demo = await startDemo({
      spaPort: 0,
      apiPort: 0,
      foreignPorts: [0],
      dataDir: dir,
      // CLOCK_SKEW=0 so an access token is refused as soon as it expires, not 30 s later.
      env: { ACCESS_TOKEN_TTL: String(TTL), CLOCK_SKEW: '0', HASH_CONCURRENCY: '1' },
      logLevel: 'silent'
    })
    context = await launch(dir)
  })
  t.teardown(async () => {
    await context?.close()
    await demo?.close()
  })

  t.test('register, log in, silent refresh past the token lifetime, reload, log out', async (t) => {
    const page = await context.newPage()
    const crashes: string[] = []
    page.on('pageerror', (error) => crashes.push(error.message))
    let firstAccessToken = ''
    page.on('response', async (response) => {
      if (response.url().endsWith('/auth/login') && response.ok()) firstAccessToken ||= (await response.json() as { access_token: string }).access_token
    })

    await page.goto(demo.spaUrl)
    await page.waitForSelector('body[data-state="signed-out"]')
    t.equal(await text(page, '#api-origin'), demo.apiUrl, 'the page talks to Tessera on another origin')
    t.not(new URL(demo.spaUrl).origin, new URL(demo.apiUrl).origin)

    await page.fill('#username', 'alice')
    await page.fill('#password', PASSWORD)
    await page.click('#register')
    await page.waitForSelector('body[data-state="signed-in"]')
    await page.waitForFunction(() => document.getElementById('me-status')?.textContent?.startsWith('200'))
    t.equal(await text(page, '#who'), 'alice', 'the user comes from /auth/me')
    t.match(await text(page, '#user-id'), /^[0-9a-f-]{36}$/)
    t.equal(await text(page, '#user-roles'), 'user')
    t.equal(await page.evaluate(() => Object.keys(localStorage).length), 0, 'nothing in localStorage')
    t.match(await page.evaluate(() => sessionStorage.getItem('tessera.refresh_token')), /^[\w-]{43}$/, 'the refresh token is in sessionStorage')
    t.notOk(await page.evaluate((token) => JSON.stringify({ ...sessionStorage, ...localStorage }).includes(token), firstAccessToken), 'the access token is in memory only')

    // Two refreshes (each about 1.5 s after the last token) take the page past the first token's lifetime.
    await page.waitForFunction(() => Number(document.getElementById('refresh-count')?.textContent) >= 2, undefined, { timeout: 30_000 })
    const stale = await fetch(`${demo.apiUrl}/auth/me`, { headers: { authorization: `Bearer ${firstAccessToken}` } })
    t.equal(stale.status, 401, 'the token from the login has expired by now')
    t.equal((await stale.json() as { code: string }).code, 'TOKEN_EXPIRED')
    await page.click('#call-me')
    await page.waitForFunction(() => document.getElementById('me-status')?.textContent === '200 OK: alice')
    t.pass('after the silent refreshes /auth/me still succeeds')
    t.match(await text(page, '#log'), /silent refresh #2/)

    await mkdir(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'spa-logged-in.png'), fullPage: true })

    await page.reload()
    await page.waitForSelector('body[data-state="signed-in"]')
    await page.waitForFunction(() => document.getElementById('who')?.textContent === 'alice')
    t.match(await text(page, '#log'), /session restored after reload \(alice\)/, 'a reload goes through a refresh')
    t.equal(await text(page, '#me-status'), '200 OK: alice')

    const refreshToken = await page.evaluate(() => sessionStorage.getItem('tessera.refresh_token'))
    await page.click('#logout')
    await page.waitForSelector('body[data-state="signed-out"]')
    t.equal(await page.evaluate(() => sessionStorage.getItem('tessera.refresh_token')), null, 'the refresh token is gone')
    await page.click('#call-me')
    await page.waitForFunction(() => document.getElementById('me-status')?.textContent?.startsWith('401'))
    t.equal(await text(page, '#me-status'), '401 TOKEN_MISSING', 'the protected call is refused')
    const revoked = await fetch(`${demo.apiUrl}/auth/refresh`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: refreshToken })
    })
    t.equal(revoked.status, 401, 'and the session is over on the server: its refresh token is refused')
    await page.reload()
    await page.waitForSelector('body[data-state="signed-out"]')
    t.pass('a reload after logout stays signed out')
    t.same(crashes, [], 'no uncaught errors in the page')
    await page.close()
  })

  t.test('from an origin not in CORS_ORIGINS the browser blocks the call', async (t) => {
    const foreign = demo.foreignUrls[0] ?? ''
    const page = await context.newPage()
    const console: string[] = []
    page.on('console', (message) => console.push(message.text()))
    await page.goto(foreign)
    await page.waitForSelector('body[data-state="signed-out"]')
    await page.fill('#username', 'mallory')
    await page.fill('#password', PASSWORD)
    await page.click('#register')
    await page.waitForSelector('#error:not([hidden])')
    t.match(await text(page, '#error'), /could not reach .*CORS refusal \(is http:\/\/127\.0\.0\.1:\d+ in CORS_ORIGINS\?\)/, 'the page reports a network/CORS error')
    t.ok(console.some((line) => /blocked by CORS policy/.test(line)), 'and the browser says CORS was the reason')
    t.equal(await demo.app.services.store.users.findByUsername('mallory'), undefined, 'the preflight failed, so the request never ran')
    t.equal(await page.evaluate(() => document.body.dataset['state']), 'signed-out')
    await page.close()
  })
}
