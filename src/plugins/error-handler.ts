import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, type ErrorCode } from '../errors.js'
import { isStoreUnavailable } from '../store/unavailable.js'

export const REALM = 'tessera'

/** Fastify's own errors that are the client's fault, and the stable code each one gets. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED'
}

const TOKEN_CODES = new Set<ErrorCode>(['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED'])

/**
 * RFC 6750 §3: a request without credentials gets the bare challenge; a bad token gets error="invalid_token".
 * RFC 9110 §15.5.2 wants a challenge on every 401, so non-token 401s carry the bare one too.
 */
export function bearerChallenge (code: ErrorCode, description?: string): string {
  if (!TOKEN_CODES.has(code) || code === 'TOKEN_MISSING') return `Bearer realm="${REALM}"`
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${description ?? 'The access token is invalid'}"`
}

export function sendError (reply: FastifyReply, error: AppError) {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(error.retryAfter))
  if (error.statusCode === 401) reply.header('www-authenticate', bearerChallenge(error.code, error.message))
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send({
    statusCode: error.statusCode,
    code: error.code,
    error: STATUS_CODES[error.statusCode] ?? 'Error',
    message: error.message
  })
}

function toAppError (error: FastifyError | Error, requestId: string): AppError {
  if (error instanceof AppError) return error
  if (isStoreUnavailable(error)) {
    return new AppError('STORE_UNAVAILABLE', 'The user store is unavailable; try again shortly', { retryAfter: 2, cause: error })
  }
  const fastifyError = error as FastifyError
  const mapped = fastifyError.code !== undefined ? FASTIFY_CODES[fastifyError.code] : undefined
  if (fastifyError.validation) return new AppError('VALIDATION_FAILED', error.message)
  if (mapped) return new AppError(mapped, error.message)
  const status = fastifyError.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code: ErrorCode = status === 401 ? 'TOKEN_INVALID' : status === 404 ? 'NOT_FOUND' : status === 405 ? 'METHOD_NOT_ALLOWED' : status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST'
    return new AppError(code, error.message)
  }
  // Internal details stay in the log; the client gets a generic message and the request id to quote.
  return new AppError('INTERNAL_ERROR', `Something went wrong on our side (request id ${requestId})`, { cause: error })
}

/** One error handler, one response shape: `{ statusCode, code, error, message }` with a stable `code`. */
export const errorHandler = fp(async function errorHandler (app: FastifyInstance) {
  app.setErrorHandler<FastifyError>((error, request, reply) => {
    const appError = toAppError(error, request.id)
    if (appError.statusCode >= 500) {
      request.log.error({ err: error, code: appError.code }, 'request failed')
    } else {
      request.log.info({ code: appError.code, reason: appError.reason ?? (error === appError ? undefined : error.message) }, 'request rejected')
    }
    return sendError(reply, appError)
  })

  app.setNotFoundHandler((request, reply) => {
    return sendError(reply, new AppError('NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`))
  })
}, { name: 'tessera-error-handler' })
