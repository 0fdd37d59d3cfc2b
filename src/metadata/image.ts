// The metadata image: brokers, topics with their partitions and configs, producer ids and
// features, immutable (Kafka's MetadataImage). Replaying a batch of committed records yields the
// next image and what changed (delta.ts); readers keep the image they were given, so none sees a
// half-applied batch. `toRecords()` is a snapshot: the records that rebuild an equal image.
// Pure: no I/O, no clock.
import { replay, type ImageParts, type MetadataChanges } from './delta.js'
import type { BrokerRegistration, MetadataRecord } from './records.js'
import type { TopicConfigs } from './topic-config.js'

export { isrProblemOf, leaderIsNews, MetadataError, type MetadataChanges } from './delta.js'
export type { BrokerRegistration, MetadataRecord } from './records.js'

export interface BrokerImage extends BrokerRegistration {
  /** Fenced brokers lead no data partition and get no new replicas. */
  readonly fenced: boolean
}

export interface PartitionImage {
  /** In preferred order: the first is the preferred leader. */
  readonly replicas: readonly number[]
  /** As last reported by the partition's Raft group: -1 when none is known. */
  readonly leader: number
  /** -1 until a leader is reported. */
  readonly leaderEpoch: number
  /**
   * In-sync replicas, ascending, as the leader of `leaderEpoch` last reported them (Kafka's
   * AlterPartition); the replicas until one is reported, and again from a new epoch's report
   * that names none.
   */
  readonly isr: readonly number[]
  /** True once a leader reported `isr` (false: the replicas stand for it). */
  readonly isrReported: boolean
  /**
   * Present only while a reassignment moves the partition (`replicas` then holds old and new
   * together): the replicas being added and those being removed; the target is replicas less removing.
   */
  readonly reassignment?: { readonly adding: readonly number[]; readonly removing: readonly number[] }
}

/** The replicas a partition is moving to (its replicas when no move is under way). */
export function targetReplicas(p: PartitionImage): readonly number[] {
  return p.reassignment === undefined ? p.replicas : p.replicas.filter((r) => !p.reassignment!.removing.includes(r))
}

/** A topic as the one-node broker's topics.json holds it, and as CreateTopics asks for it. */
export interface TopicSpec {
  readonly name: string
  /** 32 lowercase hex digits (a random UUID without dashes): what partitions are keyed by on disk. */
  readonly id: string
  /** The partition count. */
  readonly partitions: number
  /** Overrides of the topic config defaults (topic-config.ts). */
  readonly configs: TopicConfigs
}

export interface TopicImage extends TopicSpec {
  /** One per partition, by index. */
  readonly partitionStates: readonly PartitionImage[]
}

export interface ProducerIdBlock {
  readonly brokerId: number
  readonly firstId: number
  readonly size: number
}

const byKey = <T>(key: (x: T) => string | number) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)

export class MetadataImage {
  static readonly EMPTY = new MetadataImage({
    brokers: new Map(), topicsById: new Map(), topicIdsByName: new Map(), producerIds: null, features: new Map(),
  })

  private sortedTopics: readonly TopicImage[] | null = null
  private sortedBrokers: readonly BrokerImage[] | null = null

  private constructor(private readonly parts: ImageParts) {}

  topic(name: string): TopicImage | undefined {
    const id = this.parts.topicIdsByName.get(name)
    return id === undefined ? undefined : this.parts.topicsById.get(id)
  }

  topicById(id: string): TopicImage | undefined {
    return this.parts.topicsById.get(id)
  }

  /** Every topic, by name. */
  get topics(): readonly TopicImage[] {
    this.sortedTopics ??= [...this.parts.topicsById.values()].sort(byKey((t) => t.name))
    return this.sortedTopics
  }

  get topicCount(): number {
    return this.parts.topicsById.size
  }

  broker(id: number): BrokerImage | undefined {
    return this.parts.brokers.get(id)
  }

  /** Every registered broker, by id. */
  get brokers(): readonly BrokerImage[] {
    this.sortedBrokers ??= [...this.parts.brokers.values()].sort(byKey((b) => b.brokerId))
    return this.sortedBrokers
  }

  /** The last block of producer ids handed out, or null. */
  get producerIds(): ProducerIdBlock | null {
    return this.parts.producerIds
  }

  /** The first producer id not handed out yet. */
  get nextProducerId(): number {
    const last = this.parts.producerIds
    return last === null ? 0 : last.firstId + last.size
  }

  /** A feature's level: 0 when off. */
  featureLevel(name: string): number {
    return this.parts.features.get(name) ?? 0
  }

  /** Features that are on, by name. */
  get features(): ReadonlyArray<{ readonly name: string; readonly level: number }> {
    return [...this.parts.features].map(([name, level]) => ({ name, level })).sort(byKey((f) => f.name))
  }

  /** The image after `records`, in order; this image is unchanged. Throws MetadataError, applying nothing, if one does not fit. */
  apply(records: readonly MetadataRecord[]): MetadataImage {
    return this.replay(records).image
  }

  /** As apply, and what the batch changed. */
  replay(records: readonly MetadataRecord[]): { image: MetadataImage; changes: MetadataChanges } {
    const { parts, changes } = replay(this.parts, records)
    return { image: new MetadataImage(parts), changes }
  }

  /** A snapshot: records that, applied to EMPTY, rebuild an image equal to this one. */
  toRecords(): MetadataRecord[] {
    const records: MetadataRecord[] = []
    for (const { fenced, ...registration } of this.brokers) {
      records.push({ type: 'brokerRegistration', ...registration })
      if (!fenced) records.push({ type: 'unfenceBroker', brokerId: registration.brokerId })
    }
    for (const topic of this.topics) {
      const topicId = topic.id
      records.push({ type: 'topic', name: topic.name, topicId })
      topic.partitionStates.forEach(({ replicas, leader, leaderEpoch, isr, isrReported, reassignment }, index) => {
        records.push({ type: 'partition', topicId, index, replicas })
        if (reassignment) records.push({ type: 'partitionReassignment', topicId, partition: index, replicas, ...reassignment })
        if (leaderEpoch >= 0) records.push({ type: 'partitionLeader', topicId, partition: index, leader, leaderEpoch, ...(isrReported ? { isr } : {}) })
      })
      for (const key of Object.keys(topic.configs).sort()) records.push({ type: 'topicConfigSet', topicId, key, value: topic.configs[key] })
    }
    if (this.parts.producerIds) records.push({ type: 'producerIdBlock', ...this.parts.producerIds })
    for (const { name, level } of this.features) records.push({ type: 'featureLevel', name, level })
    return records
  }
}
