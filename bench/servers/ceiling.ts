import Fastify from 'fastify'
import { Type } from '@fastify/type-provider-typebox'
import { User } from '../../src/schemas/common.js'
import { serverEnv } from './env.js'

/**
 * Scenario 1, the ceiling: Fastify answering GET /auth/me with the same JSON and the same response schema as
 * Tessera, and no authentication at all. Nothing built on this stack can be faster.
 */
const { port, host } = serverEnv()
const body = JSON.parse(process.env['CEILING_BODY'] ?? '{}') as unknown

const app = Fastify({ logger: false })
app.addSchema(User)
app.get('/auth/me', { schema: { response: { 200: Type.Object({ user: Type.Ref('User') }) } } }, async () => body)
app.get('/readyz', async () => ({ status: 'ready' }))
await app.listen({ port, host })
