export interface FetchSettings {
  fetch: typeof fetch
  timeoutMs: number
  /** Aborts the fetch early, e.g. when the verifier is closed. */
  signal?: AbortSignal
}

export interface JsonResponse {
  status: number
  body: unknown
  /** Seconds the response may be reused (Cache-Control max-age, RFC 9111 §5.2.2.1); 0 for no-store/no-cache. */
  maxAge: number | undefined
}

/** Largest body accepted: a JWKS or a feed page is far smaller; a runaway response must not fill memory. */
const MAX_BODY_BYTES = 4 * 1024 * 1024

/**
 * One GET of a JSON document. The timeout covers connecting, headers and body alike (AbortSignal.timeout),
 * so a server that accepts the connection and then says nothing cannot hang a verifier.
 */
export async function fetchJson (url: string, { fetch, timeoutMs, signal }: FetchSettings): Promise<JsonResponse> {
  const timeout = AbortSignal.timeout(timeoutMs)
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: signal ? AbortSignal.any([timeout, signal]) : timeout
  })
  const length = Number(response.headers.get('content-length') ?? 0)
  if (length > MAX_BODY_BYTES) {
    await response.body?.cancel()
    throw new Error(`${url} answered ${length} bytes, more than ${MAX_BODY_BYTES}`)
  }
  const text = await response.text()
  if (text.length > MAX_BODY_BYTES) throw new Error(`${url} answered more than ${MAX_BODY_BYTES} bytes`)
  let body: unknown
  try {
    body = text === '' ? undefined : JSON.parse(text)
  } catch {
    throw new Error(`${url} answered ${response.status} with a body that is not JSON`)
  }
  return { status: response.status, body, maxAge: maxAge(response.headers.get('cache-control')) }
}

export function maxAge (cacheControl: string | null): number | undefined {
  if (cacheControl === null) return undefined
  const directives = cacheControl.toLowerCase().split(',').map((d) => d.trim())
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0
  for (const directive of directives) {
    const match = /^max-age="?(\d+)"?$/.exec(directive)
    if (match) return Number(match[1])
  }
  return undefined
}

export async function fetchOkJson (url: string, settings: FetchSettings): Promise<JsonResponse> {
  const response = await fetchJson(url, settings)
  if (response.status < 200 || response.status > 299) throw new Error(`${url} answered ${response.status}`)
  return response
}
