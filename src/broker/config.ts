// Broker configuration. Every setting has one name, used everywhere: the flag is `--NAME`, the
// config file key is `"NAME"`, errors and docs say `--NAME`. Sources, each overriding the one
// before: defaults, the JSON config file (`--config FILE`), then flags. `bitacora broker --help`
// lists every setting with its default (generated from SETTINGS below).
import { readFileSync } from 'node:fs'
import {
  BROKER_LEASE_MS_DEFAULT, BROKER_LEASE_MS_MIN, HEARTBEAT_INTERVAL_MS_DEFAULT, HEARTBEAT_INTERVAL_MS_MIN, LEADER_REBALANCE_AFTER_MS_DEFAULT,
} from './controller/decisions/limits.js'
import { parseControllerVoters, type ControllerVoter } from './controller/node/voter-list.js'
import { RACK_CHARS_MAX } from '../metadata/limits.js'
import { VOTERS_MAX } from '../raft/limits.js'
import { OFFSETS_TOPIC_PARTITIONS_DEFAULT, OFFSETS_TOPIC_PARTITIONS_MAX, OFFSETS_TOPIC_REPLICATION_FACTOR_DEFAULT } from './groups/limits.js'
import { DEFAULT_LIMITS, type BrokerLimits } from './limits.js'
import { SNAPSHOT_EVERY_RECORDS_DEFAULT } from './partition/limits.js'

export interface BrokerConfig {
  brokerId: number
  /** The cluster this node belongs to; absent: the data directory's, or a new one on first use. */
  clusterId?: string
  /**
   * The metadata quorum's bootstrap voters (used while the metadata log is empty); absent: this
   * node alone is the one voter (a one-node cluster).
   */
  controllerVoters?: readonly ControllerVoter[]
  /**
   * Where this node dials other nodes instead of their listening URL (for tests and unusual
   * networks: a proxy between two brokers). Clients and registrations keep the real URLs.
   */
  peerRoutes: readonly ControllerVoter[]
  host: string
  /** 0 picks a free port (printed on start). */
  port: number
  dataDir: string
  /** Page origins allowed to connect, beyond the broker's own and (if allowLocalhost) localhost. */
  allowedOrigins: string[]
  allowLocalhostOrigins: boolean
  /** Whether limits.connectionsPerIpMax also applies to loopback addresses (local clusters, the CLI). */
  limitLoopbackConnections: boolean
  /** Partitions of a topic created without a count. */
  defaultPartitions: number
  /** Replicas of each partition of a topic created without a replication factor (Kafka's default.replication.factor). */
  defaultReplicationFactor: number
  /** The Raft tick (single-voter groups elect on the first). */
  tickMs: number
  /** How often retention and compaction run over the broker's partitions. */
  logCleanupIntervalMs: number
  /** Idempotent producers idle this long are forgotten by each partition (Kafka's producer.id.expiration.ms). */
  producerIdExpirationMs: number
  /** The metadata log is snapshotted after this many records (Kafka's metadata.log.max.record.bytes.between.snapshots, in records). */
  metadataSnapshotRecords: number
  /** How often this broker heartbeats the active controller (Kafka's broker.heartbeat.interval.ms). */
  brokerHeartbeatIntervalMs: number
  /**
   * A broker's lease (Kafka's broker.session.timeout.ms): the active controller fences a broker
   * not heard from for this long, and a broker fences itself when its own runs out. Every node
   * of a cluster should use the same value: a node uses its own both ways.
   */
  brokerSessionTimeoutMs: number
  /** The active controller hands a partition's leadership back to its preferred replica once another has led it this long; 0: never on its own. */
  leaderRebalanceAfterMs: number
  /** The rack (or zone) this broker is in ('' for none): replicas of a partition go to different racks while there are any (Kafka's broker.rack). */
  rack: string
  /** Partitions of __consumer_offsets (Kafka's offsets.topic.num.partitions); used only when the topic is created. */
  offsetsTopicPartitions: number
  /** Its replication factor (Kafka's offsets.topic.replication.factor), lower only on a smaller cluster; used only at creation. */
  offsetsTopicReplicationFactor: number
  limits: BrokerLimits
}

export const DEFAULT_CONFIG: BrokerConfig = {
  brokerId: 0,
  host: '127.0.0.1',
  port: 9092,
  dataDir: './data',
  peerRoutes: [],
  allowedOrigins: [],
  allowLocalhostOrigins: true,
  limitLoopbackConnections: false,
  defaultPartitions: 1,
  defaultReplicationFactor: 1,
  tickMs: 50,
  logCleanupIntervalMs: 30_000,
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  metadataSnapshotRecords: SNAPSHOT_EVERY_RECORDS_DEFAULT,
  brokerHeartbeatIntervalMs: HEARTBEAT_INTERVAL_MS_DEFAULT,
  brokerSessionTimeoutMs: BROKER_LEASE_MS_DEFAULT,
  rack: '',
  leaderRebalanceAfterMs: LEADER_REBALANCE_AFTER_MS_DEFAULT,
  offsetsTopicPartitions: OFFSETS_TOPIC_PARTITIONS_DEFAULT,
  offsetsTopicReplicationFactor: OFFSETS_TOPIC_REPLICATION_FACTOR_DEFAULT,
  limits: DEFAULT_LIMITS,
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type TopField = Exclude<keyof BrokerConfig, 'limits'>
type Kind = { type: 'int'; min: number; max?: number } | { type: 'string' } | { type: 'list' } | { type: 'flag' } | { type: 'voters' } | { type: 'route' }

/** One setting: its name, where it goes in BrokerConfig, its type and what it does. */
interface Setting {
  readonly name: string
  readonly field: TopField | { limit: keyof BrokerLimits }
  readonly kind: Kind
  readonly doc: string
  /** For flags (booleans): the value set when the flag is given. */
  readonly whenGiven?: boolean
}

const int = (min: number, max?: number): Kind => ({ type: 'int', min, max })
const limit = (name: keyof BrokerLimits) => ({ limit: name })

export const SETTINGS: readonly Setting[] = [
  { name: 'id', field: 'brokerId', kind: int(0), doc: 'broker id' },
  { name: 'cluster-id', field: 'clusterId', kind: { type: 'string' }, doc: "the cluster this node belongs to (default: the data directory's, or a new one)" },
  { name: 'controller-voters', field: 'controllerVoters', kind: { type: 'voters' }, doc: 'the metadata quorum to bootstrap: ID@ws://HOST:PORT,… (default: this node alone); needs --id' },
  {
    name: 'peer-route', field: 'peerRoutes', kind: { type: 'route' },
    doc: 'reach node ID at this URL instead of where it listens: ID=ws://HOST:PORT (repeatable; for tests and unusual networks, e.g. a proxy between two brokers)',
  },
  { name: 'rack', field: 'rack', kind: { type: 'string' }, doc: "this broker's rack or zone: a partition's replicas go to different racks while there are any" },
  { name: 'host', field: 'host', kind: { type: 'string' }, doc: 'listen address' },
  { name: 'port', field: 'port', kind: int(0, 65535), doc: 'listen port; 0 picks a free one' },
  { name: 'data-dir', field: 'dataDir', kind: { type: 'string' }, doc: 'where partition logs live (one broker per directory)' },
  { name: 'allow-origin', field: 'allowedOrigins', kind: { type: 'list' }, doc: 'a web page origin allowed to connect (repeatable; * for any)' },
  { name: 'no-localhost-origins', field: 'allowLocalhostOrigins', kind: { type: 'flag' }, whenGiven: false, doc: 'refuse pages served from localhost' },
  { name: 'limit-loopback-connections', field: 'limitLoopbackConnections', kind: { type: 'flag' }, whenGiven: true, doc: 'apply --max-connections-per-ip to loopback too' },
  { name: 'default-partitions', field: 'defaultPartitions', kind: int(1), doc: 'partitions of a topic created without a count' },
  { name: 'default-replication-factor', field: 'defaultReplicationFactor', kind: int(1, VOTERS_MAX), doc: 'replicas of each partition of a topic created without a replication factor' },
  { name: 'tick-ms', field: 'tickMs', kind: int(1), doc: 'the Raft tick' },
  { name: 'log-cleanup-interval-ms', field: 'logCleanupIntervalMs', kind: int(10), doc: 'how often retention and compaction run' },
  {
    name: 'producer-id-expiration-ms', field: 'producerIdExpirationMs', kind: int(1),
    doc: 'a partition forgets an idempotent producer idle this long (it then gets UNKNOWN_PRODUCER_ID and re-initialises)',
  },
  { name: 'metadata-snapshot-records', field: 'metadataSnapshotRecords', kind: int(1), doc: 'snapshot the metadata log after this many records (a restart replays the snapshot and the records since)' },
  { name: 'broker-heartbeat-interval-ms', field: 'brokerHeartbeatIntervalMs', kind: int(HEARTBEAT_INTERVAL_MS_MIN), doc: 'how often this broker heartbeats the active controller' },
  {
    name: 'broker-session-timeout-ms', field: 'brokerSessionTimeoutMs', kind: int(BROKER_LEASE_MS_MIN),
    doc: 'a broker not heard from this long is fenced (leads no partition); over twice the heartbeat interval, the same on every node',
  },
  {
    name: 'leader-rebalance-after-ms', field: 'leaderRebalanceAfterMs', kind: int(0),
    doc: "hand a partition's leadership back to its preferred replica once another has led it this long (0: only when asked: bitacora topics rebalance-leaders)",
  },
  {
    name: 'offsets-topic-partitions', field: 'offsetsTopicPartitions', kind: int(1, OFFSETS_TOPIC_PARTITIONS_MAX),
    doc: 'partitions of __consumer_offsets (each a Raft group); used only when it is created',
  },
  {
    name: 'offsets-topic-replication-factor', field: 'offsetsTopicReplicationFactor', kind: int(1, VOTERS_MAX),
    doc: 'replicas of each __consumer_offsets partition (fewer only on a smaller cluster); used only when it is created',
  },
  { name: 'max-frame-bytes', field: limit('frameBytesMax'), kind: int(1024), doc: 'largest WebSocket message (request frame)' },
  { name: 'max-batch-bytes', field: limit('batchBytesMax'), kind: int(61), doc: "largest record batch, for topics without max.message.bytes (Kafka's message.max.bytes)" },
  { name: 'max-decompressed-bytes', field: limit('decompressedBytesMax'), kind: int(1024), doc: 'largest records section of a compressed batch once decompressed' },
  { name: 'max-in-flight', field: limit('inFlightRequestsMax'), kind: int(1), doc: 'requests in flight per connection' },
  { name: 'max-connections', field: limit('connectionsMax'), kind: int(1), doc: 'open connections' },
  { name: 'max-connections-per-ip', field: limit('connectionsPerIpMax'), kind: int(1), doc: 'open connections from one address (loopback exempt)' },
  { name: 'handshake-timeout-ms', field: limit('handshakeTimeoutMs'), kind: int(10), doc: 'a connection must finish its handshake this soon' },
  { name: 'idle-timeout-ms', field: limit('idleTimeoutMs'), kind: int(10), doc: 'close a connection idle this long' },
  { name: 'max-fetch-bytes', field: limit('fetchResponseBytesMax'), kind: int(1024), doc: 'largest fetch response' },
  { name: 'max-fetch-wait-ms', field: limit('fetchMaxWaitMsMax'), kind: int(0), doc: 'longest a fetch may wait for data' },
  { name: 'max-send-buffer-bytes', field: limit('sendBufferBytesMax'), kind: int(1024), doc: "unsent output at which a connection's requests stop being read" },
  { name: 'max-topics', field: limit('topicsMax'), kind: int(1), doc: 'topics one broker holds' },
  { name: 'max-partitions-per-topic', field: limit('partitionsPerTopicMax'), kind: int(1), doc: 'partitions of one topic' },
]

const BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]))

function defaultOf(s: Setting): unknown {
  return typeof s.field === 'string' ? DEFAULT_CONFIG[s.field] : DEFAULT_LIMITS[s.field.limit]
}

export const BROKER_USAGE = `usage: bitacora broker [options]

  --config FILE                  a JSON object of settings, keyed by the names below without '--'
                                 (e.g. {"port": 9093, "max-connections": 100}); flags override it
${SETTINGS.map((s) => {
  const arg = s.kind.type === 'int' ? ' N' : s.kind.type === 'flag' ? '' : s.kind.type === 'list' ? ' ORIGIN' : s.kind.type === 'voters' ? ' LIST' : s.kind.type === 'route' ? ' ID=URL' : ' VALUE'
  const d = defaultOf(s)
  const shown = s.kind.type === 'flag' || d === undefined || (Array.isArray(d) && d.length === 0) ? '' : ` (default ${d})`
  return `  ${`--${s.name}${arg}`.padEnd(30)} ${s.doc}${shown}`
}).join('\n')}`

/** Parses `bitacora broker` flags (and the config file they name) into a validated config. */
export function parseBrokerArgs(argv: readonly string[]): BrokerConfig {
  const config: BrokerConfig = { ...DEFAULT_CONFIG, allowedOrigins: [], limits: { ...DEFAULT_LIMITS } }
  const given = new Map<Setting, unknown>()
  let configFile: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}' (see 'bitacora broker --help')`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq < 0 ? undefined : eq)
    const inline = eq < 0 ? undefined : arg.slice(eq + 1)
    const takeValue = () => {
      if (inline !== undefined) return inline
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`--${name} needs a value`)
      i++
      return next
    }
    if (name === 'config') {
      configFile = takeValue()
      continue
    }
    const s = BY_NAME.get(name)
    if (s === undefined) throw new ConfigError(`unknown option '--${name}' (see 'bitacora broker --help')`)
    if (s.kind.type === 'flag') {
      if (inline !== undefined) throw new ConfigError(`--${name} takes no value`)
      given.set(s, s.whenGiven)
    } else if (s.kind.type === 'list') {
      given.set(s, [...((given.get(s) as string[] | undefined) ?? []), takeValue()])
    } else if (s.kind.type === 'route') {
      given.set(s, addRoute((given.get(s) as ControllerVoter[] | undefined) ?? [], takeValue(), `--${name}`))
    } else {
      given.set(s, parseValue(s, takeValue(), `--${name}`))
    }
  }
  const fromFile = configFile === undefined ? [] : readConfigFile(configFile)
  for (const [s, value] of fromFile) assign(config, s, value)
  for (const [s, value] of given) assign(config, s, value)
  const idGiven = given.has(BY_NAME.get('id')!) || fromFile.some(([s]) => s.name === 'id')
  if (config.controllerVoters !== undefined && !idGiven) {
    throw new ConfigError(`--controller-voters needs --id: which of the nodes ${config.controllerVoters.map((v) => v.id).join(', ')} (or another, to follow as a broker only) is this one?`)
  }
  return validateConfig(config)
}

function parseValue(s: Setting, text: string, where: string): unknown {
  if (s.kind.type === 'voters') {
    try {
      return parseControllerVoters(text)
    } catch (err) {
      throw new ConfigError(where === '--controller-voters' ? (err as Error).message : `${where}: ${(err as Error).message.replace(/^--controller-voters: /, '')}`)
    }
  }
  if (s.kind.type !== 'int') return text
  const n = Number(text)
  if (text.trim() === '' || !Number.isInteger(n) || n < s.kind.min || (s.kind.max !== undefined && n > s.kind.max)) {
    const range = s.kind.max === undefined ? `>= ${s.kind.min}` : `in [${s.kind.min}, ${s.kind.max}]`
    throw new ConfigError(`${where}: expected an integer ${range}, got '${text}'`)
  }
  return n
}

function assign(config: BrokerConfig, s: Setting, value: unknown): void {
  if (typeof s.field === 'string') (config as unknown as Record<string, unknown>)[s.field] = value
  else config.limits[s.field.limit] = value as number
}

/** The settings a config file holds, checked like flags; unknown keys are errors naming the right one. */
function readConfigFile(path: string): Array<[Setting, unknown]> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`--config ${path}: not JSON (${(err as Error).message})`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`--config ${path}: expected a JSON object of settings`)
  return Object.entries(parsed).map(([key, value]) => {
    const s = BY_NAME.get(key)
    if (s === undefined) throw new ConfigError(`--config ${path}: unknown setting '${key}'${suggestion(key)}`)
    const where = `--config ${path}: "${key}"`
    switch (s.kind.type) {
      case 'flag':
        if (typeof value !== 'boolean') throw new ConfigError(`${where} must be true or false`)
        return [s, value ? s.whenGiven : !s.whenGiven]
      case 'list':
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(`${where} must be an array of strings`)
        return [s, value]
      case 'string':
        if (typeof value !== 'string') throw new ConfigError(`${where} must be a string`)
        return [s, value]
      case 'route':
        if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(`${where} must be an array of "ID=URL" strings`)
        return [s, value.reduce((routes: ControllerVoter[], v: string) => addRoute(routes, v, where), [])]
      case 'voters':
        if (typeof value !== 'string') throw new ConfigError(`${where} must be a string: "ID@URL,ID@URL,…"`)
        return [s, parseValue(s, value, where)]
      case 'int':
        return [s, parseValue(s, typeof value === 'number' ? String(value) : `${JSON.stringify(value)}`, where)]
    }
  })
}

/** `routes` with one more `ID=URL` route; a node routed twice or a bad URL is an error naming the entry. */
function addRoute(routes: readonly ControllerVoter[], text: string, where: string): ControllerVoter[] {
  const eq = text.indexOf('=')
  if (eq < 0 || text.includes(',')) throw new ConfigError(`${where}: '${text}' is not ID=URL (e.g. 2=ws://127.0.0.1:19092; one route per flag)`)
  let route: ControllerVoter
  try {
    [route] = parseControllerVoters(`${text.slice(0, eq)}@${text.slice(eq + 1)}`)
  } catch (err) {
    throw new ConfigError(`${where}: '${text}': ${(err as Error).message.replace(/^--controller-voters: '[^']*'(: )?/, '')}`)
  }
  if (routes.some((r) => r.id === route.id)) throw new ConfigError(`${where}: node ${route.id} is routed twice`)
  return [...routes, route]
}

/** "; did you mean 'max-connections'?" for a key written as a field name ('maxConnections', 'connectionsMax'). */
function suggestion(key: string): string {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '')
  const words = (s: string) => new Set(s.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase().split(/[^a-z]+/).filter(Boolean))
  const want = words(key)
  const match = SETTINGS.find((s) => {
    const fieldName = typeof s.field === 'string' ? s.field : s.field.limit
    if (squash(s.name) === squash(key) || squash(fieldName) === squash(key)) return true
    const have = words(s.name)
    return have.size === want.size && [...want].every((w) => have.has(w))
  })
  return match ? `; did you mean '${match.name}'?` : " (see 'bitacora broker --help')"
}

/** Checks what no single setting can: how settings relate. */
export function validateConfig(c: BrokerConfig): BrokerConfig {
  if (c.brokerSessionTimeoutMs <= 2 * c.brokerHeartbeatIntervalMs) {
    throw new ConfigError(
      `--broker-session-timeout-ms (${c.brokerSessionTimeoutMs}) must be over twice --broker-heartbeat-interval-ms (${c.brokerHeartbeatIntervalMs}): a lease must outlast a lost heartbeat`,
    )
  }
  const rackProblem = c.rack.length > RACK_CHARS_MAX ? `at most ${RACK_CHARS_MAX} characters, got ${c.rack.length}`
    : /[^\x21-\x7e]/.test(c.rack) ? 'printable ASCII without spaces (e.g. us-east-1a)' : null
  if (rackProblem !== null) throw new ConfigError(`--rack ${JSON.stringify(c.rack.slice(0, 40))}: a rack name must be ${rackProblem}`)
  if (c.limits.batchBytesMax + FRAME_OVERHEAD_BYTES > c.limits.frameBytesMax) {
    throw new ConfigError(
      `--max-batch-bytes (${c.limits.batchBytesMax}) must leave ${FRAME_OVERHEAD_BYTES} bytes of room in --max-frame-bytes (${c.limits.frameBytesMax})`,
    )
  }
  return c
}

/** Room a produce request needs in a frame beside one batch (envelope, topic name, partition). */
export const FRAME_OVERHEAD_BYTES = 1024
