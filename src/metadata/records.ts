// The metadata log's records, as the image replays them: the proto's MetadataRecord
// (proto/bitacora.proto, "Metadata records") with ids as 32 hex digits. `type` is the name of
// the proto oneof field each one travels in (record-codec.ts converts).
import type { TopicConfigs } from './topic-config.js'

export interface BrokerRegistration {
  readonly brokerId: number
  /** New at every process start: tells a restarted broker from a second live one. */
  readonly incarnationId: string
  /** ws://host:port/ — where clients and brokers connect. */
  readonly url: string
  /** '' when none. */
  readonly rack: string
  /** The data directory's (meta.properties): a wiped disk comes back with a new one. */
  readonly directoryId: string
}

/** A partition's replicas, and while a reassignment moves it, those it adds and removes (both subsets of replicas). */
export interface ReplicaAssignment {
  readonly replicas: readonly number[]
  readonly adding: readonly number[]
  readonly removing: readonly number[]
}

export type MetadataRecord =
  | ({ readonly type: 'brokerRegistration' } & BrokerRegistration)
  | { readonly type: 'fenceBroker'; readonly brokerId: number }
  | { readonly type: 'unfenceBroker'; readonly brokerId: number }
  | { readonly type: 'topic'; readonly name: string; readonly topicId: string }
  /** The topic's next partition: `index` is its partition count so far. */
  | { readonly type: 'partition'; readonly topicId: string; readonly index: number; readonly replicas: readonly number[] }
  /** leader -1: none known in that epoch. `isr`: the leader's in-sync replicas (ascending); absent or empty: not reported. */
  | {
    readonly type: 'partitionLeader'; readonly topicId: string; readonly partition: number; readonly leader: number; readonly leaderEpoch: number
    readonly isr?: readonly number[]
  }
  /**
   * A partition's replicas change (reassignment): during a move `replicas` holds old and new
   * together, `adding` and `removing` the difference (the target is replicas less removing);
   * once it is over, the final replicas and both empty.
   */
  | ({ readonly type: 'partitionReassignment'; readonly topicId: string; readonly partition: number } & ReplicaAssignment)
  | { readonly type: 'topicConfigSet'; readonly topicId: string; readonly key: string; readonly value: string }
  | { readonly type: 'topicConfigRemoved'; readonly topicId: string; readonly key: string }
  | { readonly type: 'removeTopic'; readonly topicId: string }
  /** Producer ids [firstId, firstId + size) belong to the broker. */
  | { readonly type: 'producerIdBlock'; readonly brokerId: number; readonly firstId: number; readonly size: number }
  /** level 0: off. */
  | { readonly type: 'featureLevel'; readonly name: string; readonly level: number }

export type MetadataRecordType = MetadataRecord['type']

/** A new topic as records: the topic, its partitions with their replicas, its config overrides. */
export function newTopicRecords(
  topic: { readonly name: string; readonly id: string; readonly configs: TopicConfigs },
  replicas: readonly (readonly number[])[],
): MetadataRecord[] {
  return [
    { type: 'topic', name: topic.name, topicId: topic.id },
    ...replicas.map((r, index): MetadataRecord => ({ type: 'partition', topicId: topic.id, index, replicas: r })),
    ...configChangeRecords(topic.id, {}, topic.configs),
  ]
}

/** The records that take a topic's config overrides from `from` to `to` (none when equal). */
export function configChangeRecords(topicId: string, from: TopicConfigs, to: TopicConfigs): MetadataRecord[] {
  const records: MetadataRecord[] = []
  for (const key of Object.keys(from).sort()) {
    if (!Object.hasOwn(to, key)) records.push({ type: 'topicConfigRemoved', topicId, key })
  }
  for (const key of Object.keys(to).sort()) {
    if (!Object.hasOwn(from, key) || from[key] !== to[key]) records.push({ type: 'topicConfigSet', topicId, key, value: to[key] })
  }
  return records
}
