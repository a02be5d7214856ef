import diagnostics from 'node:diagnostics_channel'
import { Validator } from '@seriousme/openapi-schema-validator'
import type { FastifyInstance, RouteOptions } from 'fastify'
import t from 'tap'
import { buildTestApp, type TestApp } from '../helper.js'

interface Operation {
  security?: Array<Record<string, string[]>>
  responses: Record<string, { description: string, headers?: Record<string, unknown>, content?: Record<string, { schema: unknown }> }>
  requestBody?: { content: Record<string, { schema: unknown }> }
}
interface Document {
  openapi: string
  info: { title: string, version: string }
  servers: Array<{ url: string }>
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, unknown>, schemas: Record<string, unknown> }
}

/**
 * Builds the real app and records every route it registers, through an onRoute hook added the moment
 * Fastify creates the instance (the `fastify.initialization` diagnostics channel), so buildApp stays as is.
 */
async function buildRecordingApp (t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}): Promise<TestApp & { routes: RouteOptions[] }> {
  const routes: RouteOptions[] = []
  const onInit = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => { routes.push(route) })
  }
  diagnostics.subscribe('fastify.initialization', onInit)
  try {
    return { ...await buildTestApp(t, env), routes }
  } finally {
    diagnostics.unsubscribe('fastify.initialization', onInit)
  }
}

/**
 * Not API operations, so not in the document: the documentation itself (the document, Swagger UI and its
 * assets) and the CORS preflight route of @fastify/cors (OPTIONS *).
 */
const isUndocumented = (route: RouteOptions) => route.url === '/openapi.json' || route.url === '/docs' || route.url.startsWith('/docs/') ||
  (route.method === 'OPTIONS' && route.url === '*')

/** Every $ref in the document, with where it was found. */
function refs (node: unknown, path = '#'): Array<{ ref: string, at: string }> {
  if (Array.isArray(node)) return node.flatMap((child, i) => refs(child, `${path}/${i}`))
  if (node === null || typeof node !== 'object') return []
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [{ ref: value, at: path }] : refs(value, `${path}/${key}`))
}

function resolvePointer (document: unknown, ref: string): unknown {
  return ref.slice(2).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), document)
}

/** The shared ErrorResponse, or an object that has every one of its members (e.g. /readyz adds `checks`). */
function hasErrorShape (schema: unknown): boolean {
  const { $ref, required } = (schema ?? {}) as { $ref?: string, required?: string[] }
  if ($ref !== undefined) return $ref === '#/components/schemas/ErrorResponse'
  return ['statusCode', 'code', 'error', 'message'].every((member) => required?.includes(member))
}

t.test('/openapi.json is a valid OpenAPI 3.1 document whose $refs all resolve', async (t) => {
  const { app } = await buildTestApp(t, { AUTH_ISSUER: 'https://auth.example.test' })
  const response = await app.inject('/openapi.json')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  const document = response.json<Document>()

  const validator = new Validator()
  const result = await validator.validate(document as unknown as Record<string, unknown>)
  t.same(result.errors, undefined, 'no schema violations')
  t.equal(result.valid, true)
  t.equal(validator.version, '3.1')
  t.equal(document.openapi, '3.1.0')
  t.match(document.info, { title: 'Tessera', version: /^\d+\.\d+\.\d+/ })
  t.same(document.servers, [{ url: 'https://auth.example.test' }], 'the server is the configured issuer')

  const found = refs(document)
  t.ok(found.length > 10, 'shared schemas are referenced, not inlined')
  for (const { ref, at } of found) {
    t.match(ref, /^#\/components\/schemas\//, `${at}: a local component reference`)
    t.ok(resolvePointer(document, ref), `${at}: ${ref} resolves`)
  }
  for (const name of ['ErrorResponse', 'User', 'TokenResponse']) t.ok(document.components.schemas[name], `${name} is a named component`)
  t.doesNotThrow(() => validator.resolveRefs(), 'the validator resolves every reference too')
})

t.test('every registered route is documented with every response status it declares', async (t) => {
  const { app, routes } = await buildRecordingApp(t)
  const document = (await app.inject('/openapi.json')).json<Document>()
  const documented = routes.filter((route) => route.method !== 'HEAD' && !isUndocumented(route))
  t.ok(documented.length >= 11, `the hook saw the routes (${documented.length})`)

  for (const route of documented) {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    for (const method of methods) {
      const name = `${method} ${route.url}`
      const operation = document.paths[path]?.[method.toLowerCase()]
      if (!t.ok(operation, `${name} is in the document`) || !operation) continue
      const declared = Object.keys((route.schema?.response ?? {}) as Record<string, unknown>)
      t.ok(declared.length > 0, `${name} declares its responses`)
      t.same(Object.keys(operation.responses).sort(), declared.sort(), `${name}: every status is documented`)
      for (const [status, documentedResponse] of Object.entries(operation.responses)) {
        t.not(documentedResponse.description, 'Default Response', `${name} ${status} has a real description`)
        if (Number(status) >= 400) {
          t.ok(hasErrorShape(documentedResponse.content?.['application/json']?.schema), `${name} ${status} has the error shape`)
        }
        if (status === '401') t.ok(documentedResponse.headers?.['WWW-Authenticate'], `${name} 401 documents its challenge`)
        if (status === '429') t.ok(documentedResponse.headers?.['Retry-After'], `${name} 429 documents Retry-After`)
      }
      if (route.schema?.body) t.ok(operation.requestBody?.content['application/json'], `${name} documents its body`)
    }
  }
  const paths = documented.map((route) => route.url.replace(/:(\w+)/g, '{$1}'))
  t.same(Object.keys(document.paths).filter((path) => !paths.includes(path)), [], 'nothing documented that is not served')
})

t.test('protected routes require the bearer scheme; public routes do not', async (t) => {
  const { app } = await buildTestApp(t)
  const document = (await app.inject('/openapi.json')).json<Document>()
  t.same(document.components.securitySchemes['bearerAuth'], {
    type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /auth/login or /auth/refresh'
  })
  for (const [path, method] of [['/auth/me', 'get'], ['/auth/password', 'post'], ['/auth/logout-all', 'post']] as const) {
    t.same(document.paths[path]?.[method]?.security, [{ bearerAuth: [] }], `${method} ${path} needs a bearer token`)
    const unauthenticated = await app.inject({ method: method === 'get' ? 'GET' : 'POST', url: path })
    t.equal(unauthenticated.statusCode, 401, `and really answers 401 without one (${path})`)
  }
  for (const [path, method] of [['/auth/login', 'post'], ['/auth/register', 'post'], ['/.well-known/jwks.json', 'get']] as const) {
    t.equal(document.paths[path]?.[method]?.security, undefined, `${method} ${path} is public`)
  }
})

t.test('/docs serves Swagger UI from the package, no third-party origin', async (t) => {
  const { app } = await buildTestApp(t)
  const page = await app.inject('/docs/')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /<title>Tessera API<\/title>/)
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '')
  t.ok(assets.length >= 3, 'the page loads its scripts and styles')
  for (const asset of assets) {
    t.notMatch(asset, /^(?:https?:)?\/\//, `${asset} is served by Tessera itself`)
    const loaded = await app.inject(new URL(asset, 'http://localhost/docs/').pathname)
    t.equal(loaded.statusCode, 200, `${asset} loads`)
  }
  const csp = page.headers['content-security-policy']
  t.match(csp, /script-src 'self'/, 'scripts only from this origin')
  t.notMatch(csp, /upgrade-insecure-requests/, 'the page still works over plain http on a LAN address')
  const initializer = await app.inject('/docs/static/swagger-initializer.js')
  t.match(initializer.body, /url: resolveUrl\('\.\/json'\)/, 'the UI loads /docs/json')
  t.same((await app.inject('/docs/json')).json(), (await app.inject('/openapi.json')).json(), 'which is the same document')
})
