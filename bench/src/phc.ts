export interface Argon2Params {
  memoryCost: number
  timeCost: number
  parallelism: number
}

/** The costs of an argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`, any order), or null. */
export function argon2idParams(hash: string): Argon2Params | null {
  const fields = /^\$argon2id\$v=\d+\$([^$]+)\$/.exec(hash)?.[1] ?? ''
  const value = (key: string): number =>
    Number(new RegExp(`(?:^|,)${key}=(\\d+)`).exec(fields)?.[1])
  const params = { memoryCost: value('m'), timeCost: value('t'), parallelism: value('p') }
  return Object.values(params).every((n) => n > 0) ? params : null
}

export const paramsText = (p: Argon2Params): string =>
  `argon2id m=${p.memoryCost},t=${p.timeCost},p=${p.parallelism}`
