import envSchema from 'env-schema'
import { Type, type Static, type TObject } from 'typebox'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Reads `env` (never `process.env` implicitly) against a schema: strings are coerced to the
 * declared types, defaults applied, and every problem reported in one message.
 */
export function parseEnv<S extends TObject>(
  schema: S,
  env: Record<string, string | undefined>,
): Static<S> {
  const data = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  )
  try {
    return envSchema<Static<S>>({ schema, data, env: false, dotenv: false })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new ConfigError(`Invalid configuration: ${reason.replaceAll('env/', '')}`)
  }
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `"15m"` → 900000. Accepts ms, s, m, h, d; a bare number is seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) throw new ConfigError(`Invalid duration "${text}" (use e.g. 900s, 15m, 30d)`)
  return Number(match[1]) * (units[match[2] ?? 's'] ?? 1000)
}

/** A comma-separated list, trimmed, empty entries dropped. */
export function parseList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** The variables every service reads the same way; spread into a service's own schema. */
export function serviceEnvFields(defaultPort: number) {
  return {
    NODE_ENV: Type.Union(
      [Type.Literal('development'), Type.Literal('production'), Type.Literal('test')],
      {
        default: 'development',
        description: 'production requires every secret and never uses a development default.',
      },
    ),
    PORT: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: defaultPort,
      description: 'Listen port (users-api 3000, auth-api 4000).',
    }),
    HOST: Type.String({ default: '0.0.0.0', description: 'Listen address.' }),
    LOG_LEVEL: Type.String({ default: 'info', description: 'pino level.' }),
  }
}

export type Mode = 'development' | 'production' | 'test'
