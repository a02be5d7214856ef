/**
 * A small Tessera client for a single-page app on another origin.
 *
 * - The access token lives in this module's memory only: a reload forgets it, and no storage holds it.
 * - The refresh token lives in sessionStorage (see README.md for why, and what that costs).
 * - The access token is refreshed shortly before `expires_in` runs out; a call that still meets an expired
 *   token refreshes once and retries. Concurrent callers share one refresh: two refreshes with one token
 *   would look like reuse of a spent token to the server, which then ends the session.
 */

const REFRESH_KEY = 'tessera.refresh_token'

/** The server answered with an error: `status` and the stable `code` of Tessera's error shape. */
export class ApiError extends Error {
  constructor (status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.code ?? 'UNKNOWN'
  }
}

/** No answer reached the page: the network failed, or the browser refused it (CORS) without saying which. */
export class NetworkError extends Error {}

/** Seconds before expiry to refresh: a quarter of the lifetime, at most a minute. */
function refreshLead (expiresIn) {
  return Math.min(60, expiresIn / 4)
}

export function createAuthClient ({ apiBase, storage = window.sessionStorage, onChange = () => {}, onEvent = () => {} }) {
  let access = null // { token, expiresAt, user }
  let timer
  let inflight
  let refreshes = 0

  async function call (path, { method = 'GET', body, token } = {}) {
    const headers = {}
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (token) headers.Authorization = `Bearer ${token}`
    let response
    try {
      // credentials: 'omit': this is a bearer-token API; no cookie is ever sent or wanted.
      response = await fetch(`${apiBase}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store'
      })
    } catch (cause) {
      throw new NetworkError(`The browser could not reach ${apiBase}${path}: a network error, or a CORS refusal (is ${window.location.origin} in CORS_ORIGINS?)`, { cause })
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null)
    if (!response.ok) throw new ApiError(response.status, data)
    return data
  }

  function accept (tokens) {
    access = { token: tokens.access_token, expiresAt: Date.now() + tokens.expires_in * 1000, user: tokens.user }
    storage.setItem(REFRESH_KEY, tokens.refresh_token)
    clearTimeout(timer)
    const delay = Math.max(0.5, tokens.expires_in - refreshLead(tokens.expires_in)) * 1000
    timer = setTimeout(() => {
      refresh('silent').catch((error) => onEvent(`silent refresh failed: ${error.message}`))
    }, delay)
    onChange()
  }

  function forget () {
    clearTimeout(timer)
    access = null
    storage.removeItem(REFRESH_KEY)
    onChange()
  }

  async function rotate (why) {
    const refreshToken = storage.getItem(REFRESH_KEY)
    if (!refreshToken) throw new ApiError(401, { code: 'NOT_SIGNED_IN', message: 'Not signed in' })
    try {
      const tokens = await call('/auth/refresh', { method: 'POST', body: { refresh_token: refreshToken } })
      refreshes += 1
      onEvent(`${why} refresh #${refreshes}: new access token for ${tokens.expires_in} s`)
      accept(tokens)
    } catch (error) {
      // A refused refresh token (expired, revoked, reused) will never work again: the session is over.
      if (error instanceof ApiError && error.status === 401) forget()
      throw error
    }
  }

  function refresh (why) {
    inflight ??= rotate(why).finally(() => { inflight = undefined })
    return inflight
  }

  /** A call with the access token; an expired one is refreshed first, and once more if the server disagrees. */
  async function authorized (path, options = {}) {
    if (access && Date.now() >= access.expiresAt - 1000) await refresh('late')
    try {
      return await call(path, { ...options, token: access?.token })
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'TOKEN_EXPIRED') throw error
      await refresh('retry')
      return await call(path, { ...options, token: access?.token })
    }
  }

  return {
    get user () { return access?.user ?? null },
    get expiresAt () { return access?.expiresAt ?? null },
    get refreshes () { return refreshes },
    get signedIn () { return access !== null },
    get hasStoredSession () { return storage.getItem(REFRESH_KEY) !== null },

    async register (username, password) {
      return (await call('/auth/register', { method: 'POST', body: { username, password } })).user
    },
    async login (username, password) {
      accept(await call('/auth/login', { method: 'POST', body: { username, password } }))
    },
    /** After a reload: the refresh token from storage buys a new access token, or the session is over. */
    async restore () {
      await refresh('restore')
    },
    me: () => authorized('/auth/me'),
    async logout () {
      const refreshToken = storage.getItem(REFRESH_KEY)
      forget()
      // Best effort: the local session is gone whatever happens; the server ends the refresh-token family.
      if (refreshToken) await call('/auth/logout', { method: 'POST', body: { refresh_token: refreshToken } })
    }
  }
}
