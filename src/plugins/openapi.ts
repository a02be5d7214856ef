import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type swagger from '@fastify/swagger'
import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

export const OPENAPI_PATH = '/openapi.json'
export const DOCS_PATH = '/docs'

/**
 * The package version for info.version: the nearest package.json above this file, wherever the compiled
 * files were copied (dist/ in the repository, /app/dist in the image, a test's private build folder).
 */
function packageVersion (): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (name === 'tessera' && typeof version === 'string') return version
    } catch {
      // No readable package.json in this folder: look in the parent.
    }
  }
  return '0.0.0'
}

const version = packageVersion()

const DESCRIPTION = `Stateless JWT authentication. Log in for a short-lived access token (an RFC 9068 JWT signed with
a key published at /.well-known/jwks.json) and an opaque refresh token that rotates on every use.
Send the access token as \`Authorization: Bearer <token>\`. Every error has the ErrorResponse shape:
branch on its stable \`code\`, not on \`message\`.`

type SwaggerOptions = Parameters<typeof swagger>[1]

/**
 * The OpenAPI 3.1 document, generated from the route schemas (so it cannot drift from what the routes
 * validate and serialize), at /openapi.json, and Swagger UI at /docs. The UI's assets come from the npm package,
 * no CDN.
 *
 * Built on first use: @fastify/swagger, @fastify/swagger-ui and what they load (yaml, @fastify/static, ...) cost
 * 1.6 MiB of idle RSS and 90 ms of time to ready, for pages few processes ever serve. The plugin is registered
 * before the routes and records each one as @fastify/swagger's own onRoute hook would; the first request for the
 * document or the UI builds a second, private Fastify instance with @fastify/swagger, @fastify/swagger-ui and the
 * same routes (described, never run), which answers that request and every later one. The document is the same,
 * byte for byte, and is still generated once; the first request takes about 50 ms longer.
 */
async function openapiPlugin (app: FastifyInstance, { config }: { config: Config }) {
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (route) => { routes.push(route) })

  let docs: Promise<FastifyInstance> | undefined
  const loadDocs = async () => {
    // Concurrent first requests share one build; a failed build is tried again by the next request.
    docs ??= buildDocs(app, routes, config).catch((error: unknown) => {
      docs = undefined
      throw error
    })
    return await docs
  }

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => (await loadDocs()).swagger())

  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await (await loadDocs()).inject({ method: request.method as 'GET' | 'HEAD', url: request.url, headers: request.headers })
    // Connection-level headers belong to each hop; the length follows the body sent here.
    const { connection: _c, 'keep-alive': _k, 'transfer-encoding': _t, 'content-length': _l, date: _d, ...headers } = response.headers
    return await reply.code(response.statusCode).headers(headers).send(response.rawPayload)
  }
  await app.register(async function docsRoutes (scope) {
    scope.get('/', { schema: { hide: true } }, forward)
    scope.get('/*', { schema: { hide: true } }, forward)
  }, { prefix: DOCS_PATH })
}

async function buildDocs (app: FastifyInstance, routes: readonly RouteOptions[], config: Config): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')])
  // HEAD routes are left out of the document (as @fastify/swagger does by default): the recorded ones are not replayed.
  const docs = Fastify({ exposeHeadRoutes: false })
  // The routes are only described here: no validator or serializer is compiled for them.
  docs.setValidatorCompiler(() => () => true)
  docs.setSerializerCompiler(() => (data) => JSON.stringify(data))
  for (const schema of Object.values(app.getSchemas())) docs.addSchema(schema)
  await docs.register(swagger, swaggerOptions(config))
  for (const { method, url, schema, config: routeConfig } of routes) {
    // Hidden routes (the documentation's own among them) are not in the document, and Swagger UI brings its own /docs.
    if (method === 'HEAD' || (schema as { hide?: boolean } | undefined)?.hide === true) continue
    docs.route({ method, url, ...(schema ? { schema } : {}), ...(routeConfig ? { config: routeConfig } : {}), handler: documentationOnly })
  }
  await docs.register(swaggerUi, uiOptions)
  await docs.ready()
  return docs
}

async function documentationOnly (): Promise<never> {
  throw new Error('documentation only: this instance never serves API routes')
}

function swaggerOptions (config: Config): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Tessera', version, description: DESCRIPTION },
      servers: [{ url: config.issuer }],
      tags: [
        { name: 'auth', description: 'Register, log in, refresh, log out' },
        { name: 'discovery', description: 'Keys and metadata for verifiers' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'operations', description: 'Metrics for operators' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /auth/login or /auth/refresh' }
        }
      }
    },
    transform: ({ schema, url }) => ({ schema: schema === undefined ? schema : documentResponses(schema), url }),
    // Shared schemas keep their $id as the component name (#/components/schemas/User), instead of def-0, def-1...
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`
    }
  }
}

const uiOptions: FastifySwaggerUiOptions = {
  routePrefix: DOCS_PATH,
  staticCSP: true,
  // upgrade-insecure-requests would break the page over plain http on a LAN address (the container's default);
  // the image host is the online validator, which the plugin leaves switched off (validatorUrl: null).
  transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '').replace(/\s*validator\.swagger\.io/, ''),
  uiConfig: { deepLinking: true, persistAuthorization: false },
  theme: { title: 'Tessera API' }
}

type RouteSchema = Parameters<NonNullable<Extract<Parameters<typeof swagger>[1], { transform?: unknown }>['transform']>>[0]['schema']

/** Headers that come with a status whatever the route: RFC 6750 §3 challenges and RFC 9110 §10.2.3 Retry-After. */
const STATUS_HEADERS: Record<string, Record<string, { type: 'string', description: string }>> = {
  401: { 'WWW-Authenticate': { type: 'string', description: 'Bearer challenge (RFC 6750 §3); error="invalid_token" when a token was sent but refused' } },
  429: { 'Retry-After': { type: 'string', description: 'Seconds to wait before trying again' } },
  503: { 'Retry-After': { type: 'string', description: 'Seconds to wait before trying again' } }
}

/**
 * Documentation only (the route keeps its own schema for validation and serialization): each response gets
 * its status text as description instead of "Default Response" or the shared schema's description, and the
 * headers that come with its status.
 */
function documentResponses (schema: RouteSchema): RouteSchema {
  const responses = (schema as { response?: Record<string, Record<string, unknown>> }).response
  if (responses === undefined) return schema
  const described = Object.fromEntries(Object.entries(responses).map(([status, response]) => {
    const headers = STATUS_HEADERS[status]
    const text = STATUS_CODES[Number(status)] ?? `Status ${status}`
    // A $ref is replaced by the generator (siblings other than description are lost); own descriptions win.
    const description = typeof response['description'] === 'string'
      ? {}
      : '$ref' in response ? { description: text } : { 'x-response-description': text }
    return [status, { ...response, ...description, ...(headers ? { headers } : {}) }]
  }))
  return { ...schema, response: described } as RouteSchema
}

export const openapi = fp(openapiPlugin, { name: 'tessera-openapi' })
