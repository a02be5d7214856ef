import { randomBytes } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import { serverEnv } from './env.js'

declare module 'express-session' {
  interface SessionData {
    user: { id: string, username: string, roles: string[] }
  }
}

/**
 * Scenario 4: the classic stateful alternative. Express 5 + express-session with its default MemoryStore; a
 * signed session cookie identifies the session and /auth/me serves the user stored in it. POST /login stores
 * the posted user in a new session (no password check: the benchmark measures /auth/me, not logins).
 */
const { port, host } = serverEnv()

const app = express()
app.use(session({ secret: randomBytes(32).toString('hex'), resave: false, saveUninitialized: false, name: 'sid' }))
app.get('/readyz', (_req, res) => { res.json({ status: 'ready' }) })
app.post('/login', express.json(), (req, res) => {
  req.session.user = req.body as { id: string, username: string, roles: string[] }
  res.status(204).end()
})
app.get('/auth/me', (req, res) => {
  const user = req.session.user
  if (!user) {
    res.status(401).json({ code: 'NO_SESSION' })
    return
  }
  res.json({ user })
})
app.listen(port, host)
