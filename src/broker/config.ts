// Broker configuration: defaults, an optional JSON file, then command-line flags (each later
// source overrides the earlier). Every option has a documented default (`bitacora broker --help`).
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { DEFAULT_LIMITS, type BrokerLimits } from './limits.js'

export interface BrokerConfig {
  brokerId: number
  host: string
  /** 0 picks a free port (printed on start). */
  port: number
  dataDir: string
  /** Page origins allowed to connect, beyond the broker's own and (if allowLocalhost) localhost. */
  allowedOrigins: string[]
  allowLocalhostOrigins: boolean
  /** Whether limits.connectionsPerIpMax also applies to loopback addresses (local clusters, the CLI). */
  limitLoopbackConnections: boolean
  /** Defaults for CreateTopics requests that leave them at 0. */
  defaultPartitions: number
  /** Raft tick, and the election timeout in ticks (single-voter groups elect at once). */
  tickMs: number
  /** How often retention and compaction run over the broker's partitions. */
  logCleanupIntervalMs: number
  limits: BrokerLimits
}

export const DEFAULT_CONFIG: BrokerConfig = {
  brokerId: 0,
  host: '127.0.0.1',
  port: 9092,
  dataDir: './data',
  allowedOrigins: [],
  allowLocalhostOrigins: true,
  limitLoopbackConnections: false,
  defaultPartitions: 1,
  tickMs: 50,
  logCleanupIntervalMs: 30_000,
  limits: DEFAULT_LIMITS,
}

export const BROKER_USAGE = `usage: bitacora broker [options]

  --config FILE              JSON file with any of the options below (camelCase keys; limits in "limits")
  --id N                     broker id (default 0)
  --host HOST                listen address (default 127.0.0.1)
  --port N                   listen port; 0 picks a free one (default 9092)
  --data-dir DIR             where partition logs live (default ./data)
  --allow-origin ORIGIN      a web page origin allowed to connect (repeatable; * for any)
  --no-localhost-origins     refuse pages served from localhost
  --default-partitions N     partitions of a topic created without a count (default 1)
  --log-cleanup-interval-ms N  how often retention and compaction run (default 30000)
  --max-frame-bytes N        largest WebSocket message (default ${DEFAULT_LIMITS.frameBytesMax})
  --max-batch-bytes N        largest record batch (default ${DEFAULT_LIMITS.batchBytesMax})
  --max-in-flight N          requests in flight per connection (default ${DEFAULT_LIMITS.inFlightRequestsMax})
  --max-connections N        open connections (default ${DEFAULT_LIMITS.connectionsMax})
  --max-fetch-bytes N        largest fetch response (default ${DEFAULT_LIMITS.fetchResponseBytesMax})`

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function positiveInt(flag: string, value: string | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${flag}: expected an integer >= ${min}, got '${value}'`)
  return n
}

export function parseBrokerArgs(argv: string[]): BrokerConfig {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        id: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        'allow-origin': { type: 'string', multiple: true },
        'no-localhost-origins': { type: 'boolean' },
        'default-partitions': { type: 'string' },
        'log-cleanup-interval-ms': { type: 'string' },
        'max-frame-bytes': { type: 'string' },
        'max-batch-bytes': { type: 'string' },
        'max-in-flight': { type: 'string' },
        'max-connections': { type: 'string' },
        'max-fetch-bytes': { type: 'string' },
      },
      strict: true,
    })
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see 'bitacora broker --help')`)
  }
  const v = parsed.values
  const file = v.config === undefined ? {} : readConfigFile(v.config)
  const base: BrokerConfig = { ...DEFAULT_CONFIG, ...file, limits: { ...DEFAULT_LIMITS, ...(file.limits ?? {}) } }
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>
  const config: BrokerConfig = {
    ...base,
    ...defined({
      brokerId: positiveInt('--id', v.id, 0),
      host: v.host,
      port: positiveInt('--port', v.port, 0),
      dataDir: v['data-dir'],
      allowedOrigins: v['allow-origin'],
      allowLocalhostOrigins: v['no-localhost-origins'] ? false : undefined,
      defaultPartitions: positiveInt('--default-partitions', v['default-partitions']),
      logCleanupIntervalMs: positiveInt('--log-cleanup-interval-ms', v['log-cleanup-interval-ms'], 10),
    }),
    limits: {
      ...base.limits,
      ...defined({
        frameBytesMax: positiveInt('--max-frame-bytes', v['max-frame-bytes'], 1024),
        batchBytesMax: positiveInt('--max-batch-bytes', v['max-batch-bytes'], 61),
        inFlightRequestsMax: positiveInt('--max-in-flight', v['max-in-flight']),
        connectionsMax: positiveInt('--max-connections', v['max-connections']),
        fetchResponseBytesMax: positiveInt('--max-fetch-bytes', v['max-fetch-bytes'], 1024),
      }),
    },
  }
  return validateConfig(config)
}

function readConfigFile(path: string): Partial<BrokerConfig> & { limits?: Partial<BrokerLimits> } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`)
  }
  try {
    const parsed = JSON.parse(text)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object')
    return parsed
  } catch (err) {
    throw new ConfigError(`--config ${path}: ${(err as Error).message}`)
  }
}

export function validateConfig(c: BrokerConfig): BrokerConfig {
  const known = new Set(Object.keys(DEFAULT_CONFIG))
  for (const key of Object.keys(c)) if (!known.has(key)) throw new ConfigError(`unknown broker option '${key}'`)
  for (const key of Object.keys(c.limits)) {
    if (!(key in DEFAULT_LIMITS)) throw new ConfigError(`unknown limit '${key}'`)
    const n = c.limits[key as keyof BrokerLimits]
    if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`limit ${key} must be a positive integer, got ${n}`)
  }
  if (c.limits.batchBytesMax + 1024 > c.limits.frameBytesMax) {
    throw new ConfigError(`maxBatchBytes (${c.limits.batchBytesMax}) must leave room in maxFrameBytes (${c.limits.frameBytesMax})`)
  }
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new ConfigError(`port ${c.port} is not in [0, 65535]`)
  if (!Number.isInteger(c.brokerId) || c.brokerId < 0) throw new ConfigError(`broker id ${c.brokerId} must be an integer >= 0`)
  if (!(c.tickMs > 0)) throw new ConfigError(`tickMs must be > 0`)
  return c
}
