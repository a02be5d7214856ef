import { isIPv6 } from 'node:net'

/**
 * The key one client is counted under. An IPv4 address is itself (also when written IPv4-mapped, ::ffff:a.b.c.d);
 * an IPv6 address counts as its /64 network, because one subscriber usually gets a whole /64 (RFC 6177) and
 * could otherwise step to a fresh address, and a fresh counter, with every request.
 */
export function clientKey (address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped?.[1]) return mapped[1]
  if (!isIPv6(address)) return address
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros ("::" expanded, a trailing IPv4 part converted). */
function ipv6Groups (address: string): string[] {
  const [withoutZone = ''] = address.split('%')
  const [head = '', tail] = withoutZone.split('::')
  const split = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':').flatMap(ipv4AsGroups))
  const left = split(head)
  const right = split(tail)
  const zeros = Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => '0')
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16))
}

function ipv4AsGroups (part: string): string[] {
  if (!part.includes('.')) return [part]
  const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}
