// Metadata: the brokers, the active controller, and each requested topic's partitions with
// their replicas and leaders, from this node's committed metadata image. For a partition this
// broker hosts, its own Raft state wins when its leader epoch is newer than the image's.
import type { PartitionImage } from '../../metadata/image.js'
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import type { ClusterView } from '../controller/node/cluster-view.js'
import type { PartitionReplica } from '../partition/replica.js'
import type { PartitionLookup } from '../partition/replica-manager.js'
import { topicIdBytes } from './topic-id.js'

export interface MetadataDeps {
  readonly clusterId: string
  readonly cluster: Pick<ClusterView, 'image' | 'controllerId' | 'brokers'>
  readonly partitions: PartitionLookup
}

export function metadata(deps: MetadataDeps, req: bitacora.IMetadataRequest): bitacora.IMetadataResponse {
  const image = deps.cluster.image
  const names = req.topics?.length ? req.topics : image.topics.map((t) => t.name)
  return {
    brokers: deps.cluster.brokers(),
    clusterId: deps.clusterId,
    controllerId: deps.cluster.controllerId ?? -1,
    topics: names.map((name) => {
      const topic = image.topic(name)
      if (!topic) return { name, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic named "${name}"`), partitions: [] }
      return {
        name,
        topicId: topicIdBytes(topic.id),
        partitions: topic.partitionStates.map((p, index) => {
          const { leaderId, leaderEpoch } = leaderOf(p, deps.partitions.partition(name, index))
          return {
            index,
            leaderId,
            leaderEpoch,
            replicas: [...p.replicas],
            inSyncReplicas: [...p.isr], // as the leader last reported it (the replicas until it has)
            error: leaderId < 0 ? wireError(ErrorCode.LEADER_NOT_AVAILABLE) : null,
            ...movingReplicas(p),
          }
        }),
      }
    }),
  }
}

/**
 * The newer of the image's leader and the hosted replica's own. A partition of one replica whose
 * leader's report is not recorded yet (moments after it was created; controller/node/
 * leader-reporter.ts) is led by that replica if by anyone: its epoch is not known here (-1).
 */
function leaderOf(p: PartitionImage, hosted: PartitionReplica | undefined): { leaderId: number; leaderEpoch: number } {
  if (hosted !== undefined && hosted.leaderEpoch > p.leaderEpoch) return { leaderId: hosted.leaderId ?? -1, leaderEpoch: hosted.leaderEpoch }
  if (p.leaderEpoch < 0 && hosted === undefined && p.replicas.length === 1) return { leaderId: p.replicas[0], leaderEpoch: -1 }
  return { leaderId: p.leader, leaderEpoch: p.leaderEpoch }
}

/** A partition's move in progress (Adding / Removing in `topics describe`): nothing when none is. */
function movingReplicas(p: PartitionImage): Pick<bitacora.IPartitionMetadata, 'addingReplicas' | 'removingReplicas'> {
  return p.reassignment === undefined ? {} : { addingReplicas: [...p.reassignment.adding], removingReplicas: [...p.reassignment.removing] }
}
