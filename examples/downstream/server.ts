import { buildDownstream } from './app.js'

/** Run with: TESSERA_ISSUER=http://localhost:3000 npx tsx examples/downstream/server.ts */
const app = await buildDownstream({
  issuer: process.env['TESSERA_ISSUER'] ?? 'http://localhost:3000',
  audience: process.env['TESSERA_AUDIENCE'] ?? 'api',
  revocations: { interval: Number(process.env['REVOCATION_INTERVAL'] ?? 15) },
  logger: true
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
await app.listen({ port: Number(process.env['PORT'] ?? 4000), host: process.env['HOST'] ?? '127.0.0.1' })
