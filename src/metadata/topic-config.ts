// Topic configurations: Kafka's names, their defaults and validation. Pure: used by
// CreateTopics, DescribeConfigs, AlterConfigs; the broker maps them onto a storage LogConfig
// (broker/partition/log-config.ts).
import { SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from '../storage/limits.js'

export interface TopicConfigEntry {
  readonly name: string
  readonly defaultValue: string
  readonly doc: string
  /** Returns an error message, or null when `value` is acceptable. */
  readonly check: (value: string) => string | null
}

const isInt = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) =>
  /^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? null : `must be an integer in [${min}, ${max}]`
const oneOf = (...options: string[]) => (v: string) => (options.includes(v) ? null : `must be one of ${options.join(', ')}`)

export const TOPIC_CONFIGS: readonly TopicConfigEntry[] = [
  { name: 'retention.ms', defaultValue: '604800000', doc: 'delete closed segments whose newest record is older (-1: never)', check: isInt(-1) },
  { name: 'retention.bytes', defaultValue: '-1', doc: 'delete oldest closed segments while a partition is larger (-1: no limit)', check: isInt(-1) },
  { name: 'cleanup.policy', defaultValue: 'delete', doc: 'delete, compact, or compact,delete', check: oneOf('delete', 'compact', 'compact,delete') },
  { name: 'segment.bytes', defaultValue: String(1024 * 1024 * 1024), doc: 'roll a segment at this size', check: isInt(SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX) },
  { name: 'segment.ms', defaultValue: '604800000', doc: 'roll a segment at this age', check: isInt(1) },
  { name: 'max.message.bytes', defaultValue: String(1024 * 1024 + 12), doc: "largest record batch accepted (default: the broker's --max-batch-bytes)", check: isInt(61, 64 * 1024 * 1024) },
  { name: 'min.insync.replicas', defaultValue: '1', doc: 'replicas that must have flushed a batch for acks=all (never below a majority); fewer in sync: NOT_ENOUGH_REPLICAS', check: isInt(1, 16) },
  // Kafka's default is 30 s (raised from 10 s by KIP-537 for JVM pauses and slow fetchers). Ours is
  // 10 s: Node has no long stop-the-world pauses, a live follower re-fetches at least every 500 ms
  // (the parked wait), and check-quorum already gives up on silent followers after 3 s; a shorter
  // lag time makes min.insync.replicas refuse writes sooner once a replica is gone. At least 1 s:
  // an idle follower that is caught up proves it once per parked fetch (500 ms), so a shorter lag
  // would drop healthy followers between two fetches.
  { name: 'replica.lag.time.max.ms', defaultValue: '10000', doc: "a replica stays in sync while its flush reached the leader's log end within this time", check: isInt(1_000, 3_600_000) },
  { name: 'flush.policy', defaultValue: 'always', doc: 'always: fsync before acknowledging (group commit); interval: fsync every flush.ms, faster, a power cut may lose acknowledged acks=1 data', check: oneOf('always', 'interval') },
  { name: 'flush.ms', defaultValue: '1000', doc: 'fsync interval for flush.policy=interval', check: isInt(1) },
  { name: 'delete.retention.ms', defaultValue: '86400000', doc: 'how long compaction keeps tombstones', check: isInt(0) },
]

const BY_NAME = new Map(TOPIC_CONFIGS.map((e) => [e.name, e]))

export type TopicConfigs = Readonly<Record<string, string>>

/** Validates overrides; returns an error message naming the first bad key, or null. */
export function checkTopicConfigs(overrides: TopicConfigs): string | null {
  for (const [key, value] of Object.entries(overrides)) {
    const entry = BY_NAME.get(key)
    if (!entry) return `unknown topic config '${key}' (known: ${TOPIC_CONFIGS.map((e) => e.name).join(', ')})`
    const problem = entry.check(value)
    if (problem) return `topic config ${key}=${JSON.stringify(value)}: ${problem}`
  }
  return null
}

/** Every topic config with its effective value: the override, else the default. */
/**
 * Every topic config with its effective value: the override, else the broker's default for it
 * (`brokerDefaults`, e.g. max.message.bytes from --max-batch-bytes), else the built-in default.
 */
export function effectiveConfigs(
  overrides: TopicConfigs, brokerDefaults: TopicConfigs = {},
): Array<{ entry: TopicConfigEntry; value: string; isDefault: boolean }> {
  return TOPIC_CONFIGS.map((entry) => {
    const value = overrides[entry.name]
    return { entry, value: value ?? brokerDefaults[entry.name] ?? entry.defaultValue, isDefault: value === undefined }
  })
}

export function topicConfigValue(overrides: TopicConfigs, name: string): string {
  const entry = BY_NAME.get(name)
  if (!entry) throw new Error(`no topic config named ${name}`) // programmer error
  return overrides[name] ?? entry.defaultValue
}
