import { API_BASE } from './config.js'
import { ApiError, createAuthClient } from './auth-client.js'

const $ = (id) => document.getElementById(id)

const auth = createAuthClient({ apiBase: API_BASE, onChange: render, onEvent: log })

function log (message) {
  const item = document.createElement('li')
  item.textContent = `${new Date().toLocaleTimeString()} ${message}`
  $('log').prepend(item)
}

function showError (error) {
  $('error').hidden = error === undefined
  $('error').textContent = error === undefined ? '' : error instanceof ApiError ? `${error.status} ${error.code}: ${error.message}` : error.message
  if (error !== undefined) log(`error: ${$('error').textContent}`)
}

function render () {
  document.body.dataset.state = auth.signedIn ? 'signed-in' : 'signed-out'
  $('signed-in').hidden = !auth.signedIn
  $('signed-out').hidden = auth.signedIn
  $('refresh-count').textContent = String(auth.refreshes)
  tick()
}

function tick () {
  $('expires-in').textContent = auth.expiresAt === null ? '–' : String(Math.max(0, Math.round((auth.expiresAt - Date.now()) / 1000)))
}

/** The user panel shows what /auth/me says, i.e. the claims of the token the page holds now. */
async function callMe () {
  try {
    const { user } = await auth.me()
    $('who').textContent = user.username
    $('user-id').textContent = user.id
    $('user-roles').textContent = user.roles.join(', ')
    setOutput('ok', `200 OK: ${user.username}`)
  } catch (error) {
    if (!(error instanceof ApiError)) return showError(error)
    setOutput('refused', `${error.status} ${error.code}`)
  }
}

function setOutput (kind, text) {
  $('me-status').className = kind
  $('me-status').textContent = text
  log(`/auth/me: ${text}`)
}

/** Runs a button's action with the form locked and errors shown. */
function action (button, run) {
  button.addEventListener('click', async (event) => {
    event.preventDefault()
    const form = $('credentials')
    if (form.contains(button) && !form.reportValidity()) return
    showError(undefined)
    button.disabled = true
    try {
      await run()
    } catch (error) {
      showError(error)
    } finally {
      button.disabled = false
    }
  })
}

action($('register'), async () => {
  const user = await auth.register($('username').value, $('password').value)
  log(`registered ${user.username}; logging in`)
  await auth.login($('username').value, $('password').value)
  await callMe()
})

action($('login'), async () => {
  await auth.login($('username').value, $('password').value)
  log(`logged in as ${auth.user.username}`)
  $('password').value = ''
  await callMe()
})

action($('logout'), async () => {
  await auth.logout()
  log('logged out: tokens dropped, session ended on the server')
})

action($('call-me'), callMe)

async function start () {
  $('page-origin').textContent = window.location.origin
  $('api-origin').textContent = API_BASE
  setInterval(tick, 250)
  if (auth.hasStoredSession) {
    try {
      await auth.restore()
      log(`session restored after reload (${auth.user.username})`)
      await callMe()
    } catch (error) {
      showError(error)
    }
  }
  render()
}

start()
