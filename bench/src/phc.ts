/**
 * The argon2 parameters of a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`, or the
 * `m,p,t` order of older hashes), in a fixed order (`argon2id m=19456,t=2,p=1`), or null when it
 * is not one.
 */
export function phcParameters(hash: string): string | null {
  const match = /^\$(argon2(?:id|i|d))\$v=\d+\$([^$]+)\$/.exec(hash)
  if (!match) return null
  const values = new Map(
    (match[2] ?? '').split(',').map((pair) => pair.split('=', 2) as [string, string]),
  )
  return `${match[1] ?? ''} m=${values.get('m') ?? '?'},t=${values.get('t') ?? '?'},p=${values.get('p') ?? '?'}`
}
