import { isIPv6 } from 'node:net'

/**
 * The address a client is counted under: an IPv4 address as it is, an IPv6 address by its
 * /64 (one subscriber usually holds a whole /64, so counting single addresses would give
 * each client 2^64 budgets). IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function clientKey(ip: string): string {
  if (!isIPv6(ip)) return ip
  const lower = ip.toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (mapped?.[1]) return mapped[1]
  return `${expandIpv6(lower).slice(0, 4).join(':')}::/64`
}

/** The eight groups of an IPv6 address (an embedded IPv4 tail counts as two). */
function expandIpv6(ip: string): string[] {
  const address = ip.split('%')[0] ?? ip
  const [head = '', tail] = address.split('::')
  const parse = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16).toString(16)]
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number)
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
        })
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0')
  return [...left, ...zeros, ...right]
}
