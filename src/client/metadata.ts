// The client's view of the cluster: brokers by id, and for each topic of interest its
// partitions and their leaders. Pure (no I/O, time passed in) so routing is testable.
// Leader hints from NOT_LEADER_OR_FOLLOWER and FENCED_LEADER_EPOCH answers update single
// partitions between full refreshes; errors mark a topic stale so the next use refreshes it.
// One rule for both, by leader epoch (KIP-320, KIP-951): the cache never goes back to an older
// epoch. In a cluster any node may answer from an image that lags, so a Metadata answer's
// partition with an older epoch than the one cached (same topic id) is ignored; a hint is taken
// only when its epoch is newer (an epoch has one leader: an equal one tells nothing new).
import type { bitacora } from '../protocol/index.js'
import { BitacoraError } from './errors.js'
import { errorFromWire } from './errors.js'
import { METADATA_TOPICS_MAX } from './limits.js'

export interface BrokerAddress {
  id: number
  url: string
  rack: string
  /** Registered, but its lease expired (or it has not caught up): it leads nothing for now. */
  fenced: boolean
}

export interface PartitionInfo {
  partition: number
  /** -1 when the partition has no leader right now. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  inSyncReplicas: number[]
  error: BitacoraError | null
  /** While a reassignment moves the partition (describeTopics only): the replicas it adds and those it removes. */
  addingReplicas?: number[]
  removingReplicas?: number[]
}

export interface TopicInfo {
  name: string
  topicId: Uint8Array
  internal: boolean
  partitions: PartitionInfo[] // indexed by partition number
  /** Partitions with a leader, ascending; kept current as leaders change (read-only for users). */
  available: number[]
  error: BitacoraError | null
  updatedAt: number
  stale: boolean
}

export class MetadataCache {
  private readonly brokers = new Map<number, BrokerAddress>()
  private readonly topics = new Map<string, TopicInfo>()
  clusterId = ''
  controllerId = -1
  updatedAt = -Infinity

  constructor(private readonly maxAgeMs: number, private readonly topicsMax = METADATA_TOPICS_MAX) {}

  /** Applies a Metadata response. Topics not in it keep their last known state. */
  update(response: bitacora.IMetadataResponse, now: number): void {
    if (response.brokers && response.brokers.length > 0) {
      this.brokers.clear()
      for (const b of response.brokers) {
        this.brokers.set(b.id ?? 0, { id: b.id ?? 0, url: b.url ?? '', rack: b.rack ?? '', fenced: b.fenced ?? false })
      }
    }
    this.clusterId = response.clusterId ?? this.clusterId
    this.controllerId = response.controllerId ?? this.controllerId
    this.updatedAt = now
    for (const t of response.topics ?? []) {
      const name = t.name ?? ''
      const known = this.topics.get(name)
      if (known === undefined && this.topics.size >= this.topicsMax) this.evictOldest()
      this.topics.set(name, keepNewerLeaders(known, topicInfo(t, now)))
    }
  }

  broker(id: number): BrokerAddress | undefined {
    return this.brokers.get(id)
  }

  brokerList(): BrokerAddress[] {
    return [...this.brokers.values()]
  }

  topic(name: string): TopicInfo | undefined {
    return this.topics.get(name)
  }

  topicNames(): string[] {
    return [...this.topics.keys()]
  }

  /** True when `topic` must be (re)fetched before use: unknown, stale, errored or too old. */
  needsRefresh(topic: string, now: number): boolean {
    const t = this.topics.get(topic)
    return t === undefined || t.stale || t.error !== null || now - t.updatedAt >= this.maxAgeMs
  }

  /** The leader's broker id, or -1 when unknown or leaderless. */
  leaderOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1
  }

  /** The leader's address, when both leader and broker are known. */
  leaderAddress(topic: string, partition: number): BrokerAddress | undefined {
    const leader = this.leaderOf(topic, partition)
    return leader < 0 ? undefined : this.brokers.get(leader)
  }

  partitionCount(topic: string): number {
    return this.topics.get(topic)?.partitions.length ?? 0
  }

  /** Partitions with a leader: where keyless records may go (KIP-480 skips leaderless ones). Do not modify. */
  availablePartitions(topic: string): readonly number[] {
    return this.topics.get(topic)?.available ?? NONE
  }

  /**
   * Applies a leader hint (a broker's NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH answer).
   * Returns true when the cache took it: a known broker leading in an epoch newer than the
   * cached one, worth trying at once (it may be the broker that answered, in its new epoch).
   * Otherwise the topic is marked stale, for a refresh.
   */
  applyLeaderHint(topic: string, partition: number, hint: LeaderHint): boolean {
    const t = this.topics.get(topic)
    const p = t?.partitions[partition]
    if (t === undefined || p === undefined) return false
    if (hint.leaderId < 0 || !this.brokers.has(hint.leaderId) || leaderEpochOrder(hint.leaderEpoch, p.leaderEpoch) <= 0) {
      this.markStale(topic)
      return false
    }
    p.leader = hint.leaderId
    p.leaderEpoch = hint.leaderEpoch!
    t.available = availableOf(t.partitions)
    return true
  }

  /** The leader epoch cached for a partition: what requests to its leader carry (-1: unknown). */
  leaderEpochOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leaderEpoch ?? -1
  }

  /** True after an error marked the topic stale, until a refresh brings it again. */
  isStale(topic: string): boolean {
    return this.topics.get(topic)?.stale === true
  }

  markStale(topic: string): void {
    const t = this.topics.get(topic)
    if (t) t.stale = true
  }

  forget(topic: string): void {
    this.topics.delete(topic)
  }

  private evictOldest(): void {
    let oldest: TopicInfo | undefined
    for (const t of this.topics.values()) if (!oldest || t.updatedAt < oldest.updatedAt) oldest = t
    if (oldest) this.topics.delete(oldest.name)
  }
}

const NONE: readonly number[] = []

/** A broker's word on a partition's leader; `leaderEpoch` null from brokers that send none. */
export interface LeaderHint {
  leaderId: number
  leaderEpoch: number | null
}

export const NO_HINT: LeaderHint = Object.freeze({ leaderId: -1, leaderEpoch: null })

/** The hint in a partition's answer (absent fields: none). */
export function hintOf(answer: { leaderHint?: number | null; leaderHintEpoch?: number | null } | undefined): LeaderHint {
  return { leaderId: answer?.leaderHint ?? -1, leaderEpoch: answer?.leaderHintEpoch ?? null }
}

/**
 * The one rule for a leader the cache is offered: how its epoch compares with the cached one
 * (-1 older, 0 the same, 1 newer). An offer without an epoch is never newer.
 */
function leaderEpochOrder(offered: number | null, cached: number): -1 | 0 | 1 {
  if (offered === null) return cached < 0 ? 0 : -1
  return offered < cached ? -1 : offered === cached ? 0 : 1
}

function availableOf(partitions: readonly PartitionInfo[]): number[] {
  const out: number[] = []
  for (const p of partitions) if (p.leader >= 0) out.push(p.partition)
  return out
}

/**
 * `fresh`, except that a partition whose leader epoch is older than the one `known` has (the
 * same topic: same id and partition count) keeps the known leader: the node that answered had
 * not heard of the newer election yet.
 */
function keepNewerLeaders(known: TopicInfo | undefined, fresh: TopicInfo): TopicInfo {
  if (known === undefined || !sameBytes(known.topicId, fresh.topicId) || known.partitions.length !== fresh.partitions.length) return fresh
  let kept = false
  fresh.partitions = fresh.partitions.map((p, i) => {
    const old = known.partitions[i]
    if (leaderEpochOrder(p.leaderEpoch, old.leaderEpoch) >= 0) return p
    kept = true
    return old
  })
  if (kept) fresh.available = availableOf(fresh.partitions)
  return fresh
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function topicInfo(t: bitacora.ITopicMetadata, now: number): TopicInfo {
  const partitions: PartitionInfo[] = []
  for (const p of t.partitions ?? []) {
    const index = p.index ?? 0
    partitions[index] = {
      partition: index,
      leader: p.leaderId ?? -1,
      leaderEpoch: p.leaderEpoch ?? -1,
      replicas: p.replicas ?? [],
      inSyncReplicas: p.inSyncReplicas ?? [],
      error: errorFromWire(p.error),
    }
  }
  // A hole means the broker left a partition out: treat it as leaderless rather than crash.
  for (let i = 0; i < partitions.length; i++) {
    partitions[i] ??= { partition: i, leader: -1, leaderEpoch: -1, replicas: [], inSyncReplicas: [], error: null }
  }
  const name = t.name ?? ''
  return {
    name,
    topicId: t.topicId ?? new Uint8Array(16),
    internal: t.internal ?? false,
    partitions,
    available: availableOf(partitions),
    error: errorFromWire(t.error, `topic ${name}`),
    updatedAt: now,
    stale: false,
  }
}
