import { createPublicKey } from 'node:crypto'
import type { AuthApiClient, Jwks } from '@users-auth/auth-contract'

export const acceptedAlgorithms = ['EdDSA', 'ES256'] as const

/**
 * auth-api's public keys, kept in memory: tokens are verified locally, with no network hop.
 * An unknown `kid` triggers a refetch (at most once per `minRefetchMs`, so forged kids cannot
 * make us hammer auth-api), and a periodic refresh drops retired keys.
 */
export class JwksCache {
  private pems = new Map<string, string>()
  private published: Jwks | undefined
  private lastFetch = 0
  private inflight: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly client: AuthApiClient,
    private readonly options: { minRefetchMs: number; refreshEveryMs: number; now?: () => number },
  ) {}

  /** Fetches now and keeps refreshing in the background until `stop()`. */
  start(onError: (error: unknown) => void): void {
    this.refresh().catch(onError)
    this.timer = setInterval(() => {
      this.refresh().catch(onError)
    }, this.options.refreshEveryMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  get current(): Jwks | undefined {
    return this.published
  }

  /** Whether `kid` is in the key set now (no fetch): a retired key is not. */
  has(kid: string): boolean {
    return this.pems.has(kid)
  }

  async keyFor(kid: string): Promise<string | undefined> {
    const known = this.pems.get(kid)
    if (known) return known
    // A fetch under way may bring this very key (many requests carry a new kid at once).
    if (this.inflight) await this.inflight
    else if (this.now() - this.lastFetch >= this.options.minRefetchMs) await this.refresh()
    return this.pems.get(kid)
  }

  refresh(): Promise<void> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined
    })
    return this.inflight
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private async fetch(): Promise<void> {
    this.lastFetch = this.now()
    const jwks = await this.client.getJwks()
    const pems = new Map<string, string>()
    const keys = jwks.keys.filter((k) => (acceptedAlgorithms as readonly string[]).includes(k.alg))
    for (const jwk of keys) {
      const pem = createPublicKey({ key: { ...jwk }, format: 'jwk' }).export({
        type: 'spki',
        format: 'pem',
      })
      pems.set(jwk.kid, pem.toString())
    }
    this.pems = pems
    this.published = { keys }
  }
}
