// The client config file: named profiles of settings for the client commands, so a cluster's
// address and client options need not be typed each time. JSON, e.g.
//
//   { "profiles": {
//       "default": { "bootstrap-server": "ws://127.0.0.1:9092/" },
//       "big":     { "bootstrap-server": ["ws://127.0.0.1:9092/", "ws://127.0.0.1:9093/"], "request-bytes-max": 8388608 } } }
//
// The file is --client-config FILE, else $BITACORA_CLIENT_CONFIG; the profile --profile NAME,
// else $BITACORA_PROFILE, else "default" (when the file has one). A setting is named as its
// flag is (one name per setting); a command takes the settings it has flags for. Precedence:
// flag > environment ($BITACORA_BROKERS) > file > default.
import { readFileSync } from 'node:fs'
import type { CompressionCodec } from '../client/node.js'
import { parseFlags, type FlagSpec, type Parsed } from './args.js'
import { UsageError } from './errors.js'
import { CLIENT_CONFIG_BYTES_MAX } from './limits.js'

/** Settings a profile may hold: the client commands' connection and client-option flags. */
export const PROFILE_SETTINGS = ['bootstrap-server', 'acks', 'compression', 'request-bytes-max', 'batch-bytes', 'linger-ms'] as const

/** The values of the producer settings (flags and profiles alike). */
export const ACKS_CHOICES = ['0', '1', 'all', '-1'] as const
export const COMPRESSION_CHOICES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly CompressionCodec[]

/** The flags every client command takes. */
export const CLIENT_FLAGS = { help: 'boolean', 'bootstrap-server': 'string', 'client-config': 'string', profile: 'string' } as const

export const DEFAULT_PROFILE = 'default'

type Settings = Partial<Record<(typeof PROFILE_SETTINGS)[number], string>>

/** Flags, with the absent ones that the chosen profile sets filled in from it. */
export function parseClientFlags<S extends FlagSpec & typeof CLIENT_FLAGS>(
  command: string, argv: readonly string[], spec: S, env: NodeJS.ProcessEnv = process.env,
): Parsed<S> {
  const parsed = parseFlags(command, argv, spec)
  const flags = parsed.flags as Record<string, unknown>
  if (flags.help) return parsed
  const settings = profileSettings(flags['client-config'] as string | undefined, flags.profile as string | undefined, env)
  for (const [name, value] of Object.entries(settings)) {
    if (!Object.hasOwn(spec, name) || flags[name] !== undefined) continue
    if (name === 'bootstrap-server' && env.BITACORA_BROKERS) continue // the environment outranks the file
    flags[name] = value
  }
  return parsed
}

/** The settings of the chosen profile (none without a file). */
export function profileSettings(fileFlag: string | undefined, profileFlag: string | undefined, env: NodeJS.ProcessEnv): Settings {
  const file = fileFlag ?? (env.BITACORA_CLIENT_CONFIG || undefined)
  const explicit = profileFlag ?? (env.BITACORA_PROFILE || undefined)
  if (file === undefined) {
    if (explicit !== undefined) throw new UsageError(`--profile ${explicit}: no client config file (give --client-config FILE or set $BITACORA_CLIENT_CONFIG)`)
    return {}
  }
  const profiles = readProfiles(file)
  const name = explicit ?? DEFAULT_PROFILE
  if (!Object.hasOwn(profiles, name)) {
    if (explicit === undefined) return {}
    const known = Object.keys(profiles)
    throw new UsageError(`--profile ${name}: no such profile in ${file} (it has: ${known.length > 0 ? known.join(', ') : 'none'})`)
  }
  return settingsOf(file, name, profiles[name])
}

function readProfiles(file: string): Record<string, unknown> {
  let text: string
  try {
    const bytes = readFileSync(file)
    if (bytes.length > CLIENT_CONFIG_BYTES_MAX) throw new UsageError(`client config ${file}: larger than ${CLIENT_CONFIG_BYTES_MAX} bytes`)
    text = bytes.toString('utf8')
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError(`client config ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`client config ${file}: not JSON (${(err as Error).message})`)
  }
  const profiles = isObject(parsed) ? parsed.profiles : undefined
  if (!isObject(parsed) || !isObject(profiles)) throw new UsageError(`client config ${file}: expected an object {"profiles": {"NAME": {...}}}`)
  const stray = Object.keys(parsed).find((k) => k !== 'profiles')
  if (stray !== undefined) throw new UsageError(`client config ${file}: unknown key '${stray}' (only "profiles")`)
  return profiles
}

function settingsOf(file: string, name: string, profile: unknown): Settings {
  const where = `client config ${file}, profile '${name}'`
  if (!isObject(profile)) throw new UsageError(`${where}: expected an object of settings`)
  const settings: Settings = {}
  for (const [key, value] of Object.entries(profile)) {
    if (!(PROFILE_SETTINGS as readonly string[]).includes(key)) {
      throw new UsageError(`${where}: unknown setting '${key}' (known: ${PROFILE_SETTINGS.join(', ')})`)
    }
    const list = key === 'bootstrap-server' && Array.isArray(value) && value.every((v) => typeof v === 'string')
    if (!list && typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new UsageError(`${where}: '${key}' must be a string or a number${key === 'bootstrap-server' ? ' (or a list of URLs)' : ''}`)
    }
    settings[key as keyof Settings] = list ? (value as string[]).join(',') : String(value)
  }
  return settings
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
