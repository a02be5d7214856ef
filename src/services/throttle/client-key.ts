import { isIPv6 } from 'node:net'

/**
 * The unit a client controls. An IPv6 site is given a whole /64 (RFC 7934 §6), so counting single IPv6
 * addresses would let one client try 2^64 times as often; an IPv4-mapped address is its IPv4 address.
 */
export function addressBucket (address: string): string {
  const bare = address.split('%')[0] ?? address
  if (!isIPv6(bare)) return address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  if (mapped?.[1]) return mapped[1]
  const [head = '', tail] = bare.toLowerCase().split('::')
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => g.includes('.') ? ['0', '0'] : [g]) : [])
  const left = groups(head)
  const right = groups(tail)
  const full = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return `${full.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`
}
