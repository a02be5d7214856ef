import { STATUS_CODES } from 'node:http'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Services } from '../services/index.js'

const PING_TIMEOUT_MS = 2000

async function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/** /healthz: the process is alive. /readyz: it can serve logins (store answers, a key can sign). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const Checks = Type.Record(Type.String(), Type.String())

  app.get('/healthz', {
    schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      response: {
        200: Type.Object({ status: Type.Literal('ready'), checks: Checks }),
        503: Type.Object({ statusCode: Type.Integer(), code: Type.String(), error: Type.String(), message: Type.String(), checks: Checks })
      }
    }
  }, async (request, reply) => {
    const checks: Record<string, string> = { store: 'ok', keys: 'ok' }
    let storeError: unknown
    try {
      await withTimeout(services.store.ping(), PING_TIMEOUT_MS)
    } catch (error) {
      // The driver's message (hosts, ports, users) is for the log; the public body only says what is down.
      storeError = error
      checks['store'] = 'unavailable'
    }
    if (!services.keyring.ready) checks['keys'] = 'no active signing key'
    const failing = Object.entries(checks).filter(([, value]) => value !== 'ok').map(([name]) => name)
    if (failing.length === 0) return { status: 'ready' as const, checks }
    request.log.warn({ checks, err: storeError }, 'not ready')
    return await reply.code(503).send({
      statusCode: 503, code: 'NOT_READY', error: STATUS_CODES[503] ?? 'Service Unavailable', message: `Not ready: ${failing.join(', ')}`, checks
    })
  })
}
