// Metadata: the brokers, and each requested topic's partitions with their leaders.
import type { MetadataImage } from '../../metadata/image.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { topicIdBytes } from './topic-id.js'

export interface MetadataDeps {
  readonly brokerId: number
  readonly clusterId: string
  /** This broker's WebSocket URL. */
  readonly url: string
  readonly image: () => MetadataImage
  readonly partitions: PartitionLookup
}

export function metadata(deps: MetadataDeps, req: bitacora.IMetadataRequest): bitacora.IMetadataResponse {
  const image = deps.image()
  const names = req.topics?.length ? req.topics : image.topics.map((t) => t.name)
  return {
    brokers: [{ id: deps.brokerId, url: deps.url, rack: '' }],
    clusterId: deps.clusterId,
    controllerId: deps.brokerId,
    topics: names.map((name) => {
      const topic = image.topic(name)
      if (!topic) return { name, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${name}"`), partitions: [] }
      return {
        name,
        topicId: topicIdBytes(topic.id),
        partitions: Array.from({ length: topic.partitions }, (_, index) => {
          const r = deps.partitions.partition(name, index)
          const leaderId = r?.leaderId ?? -1
          return {
            index,
            leaderId,
            leaderEpoch: r?.leaderEpoch ?? -1,
            replicas: [deps.brokerId],
            inSyncReplicas: [deps.brokerId],
            error: leaderId < 0 ? wireError(ErrorCode.LEADER_NOT_AVAILABLE) : null,
          }
        }),
      }
    }),
  }
}
