import { fetchOkJson, type FetchSettings } from './fetch-json.js'

export interface Endpoints {
  jwks (): Promise<string>
  revocations (): Promise<string>
}

/**
 * Where the keys and the revocation feed are. Given URLs are used as they are; otherwise they come from the
 * issuer's discovery document (RFC 8414 §3, OpenID Connect Discovery §4), read once and kept. A failed read is
 * not kept: the callers' own cooldowns decide when to try again.
 */
export function createEndpoints ({ issuer, jwksUri, revocationsUri, fetchSettings }: {
  issuer: string
  jwksUri: string | undefined
  revocationsUri: string | undefined
  fetchSettings: FetchSettings
}): Endpoints {
  let discovered: Promise<{ jwks: string, revocations: string }> | undefined

  function discover () {
    discovered ??= readDiscovery(issuer, fetchSettings).catch((error: unknown) => {
      discovered = undefined
      throw error
    })
    return discovered
  }

  return {
    async jwks () {
      return jwksUri ?? (await discover()).jwks
    },
    async revocations () {
      if (revocationsUri !== undefined) return revocationsUri
      // With a given jwksUri there may be no discovery document at all: Tessera's path is the fallback.
      if (jwksUri !== undefined) return `${issuer}/auth/revocations`
      return (await discover()).revocations
    }
  }
}

async function readDiscovery (issuer: string, fetchSettings: FetchSettings) {
  const url = `${issuer}/.well-known/openid-configuration`
  const { body } = await fetchOkJson(url, fetchSettings)
  const metadata = (body ?? {}) as Record<string, unknown>
  // RFC 8414 §3.3: the issuer in the document must be the one asked for, or it speaks for someone else.
  if (metadata['issuer'] !== issuer) throw new Error(`${url} names issuer ${JSON.stringify(metadata['issuer'])}, expected ${JSON.stringify(issuer)}`)
  const jwks = metadata['jwks_uri']
  if (typeof jwks !== 'string' || !/^https?:\/\//.test(jwks)) throw new Error(`${url} has no http(s) jwks_uri`)
  const feed = metadata['revocation_feed_endpoint']
  return { jwks, revocations: typeof feed === 'string' && /^https?:\/\//.test(feed) ? feed : `${issuer}/auth/revocations` }
}
