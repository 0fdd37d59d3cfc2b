// DescribeQuorum naming data partitions (Kafka's DescribeQuorum takes topic partitions): each
// partition's Raft group as its leader knows it — epoch, high watermark, log start, the ISR it
// computes now, and each replica's log end, flushed offset, lag and last fetch. Only the leader
// hears from every replica, so another node answers NOT_LEADER_OR_FOLLOWER naming the leader it
// knows, and the client asks there. What `bitacora topics describe` shows per replica.
import type { MetadataImage } from '../../metadata/image.js'
import { ErrorCode, wireError, type bitacora } from '../../protocol/index.js'
import type { ReplicaProgress, Status } from '../../raft/types.js'
import type { InSyncReplicas } from '../partition/isr.js'
import type { ReplicaLookup } from '../partition/replica-manager.js'
import { DESCRIBE_REPLICAS_PARTITIONS_MAX } from '../limits.js'

type PartitionQuorum = bitacora.DescribeQuorumResponse.IPartitionQuorum

export interface DescribeReplicasDeps {
  readonly image: () => MetadataImage
  readonly partitions: ReplicaLookup
  readonly isr: Pick<InSyncReplicas, 'of' | 'tickMs'>
}

export function describeReplicas(deps: DescribeReplicasDeps, req: bitacora.IDescribeQuorumRequest): { describeQuorum: bitacora.IDescribeQuorumResponse } | { error: bitacora.IError } {
  const image = deps.image()
  const asked: Array<{ topic: string; partition: number }> = []
  for (const t of req.topics ?? []) {
    const name = t.name ?? ''
    const all = image.topic(name)?.partitions ?? 0
    const indexes = (t.partitions ?? []).length > 0 ? t.partitions! : [...Array(all).keys()]
    for (const partition of indexes) asked.push({ topic: name, partition })
  }
  if (asked.length > DESCRIBE_REPLICAS_PARTITIONS_MAX) {
    return { error: wireError(ErrorCode.INVALID_REQUEST, `describe at most ${DESCRIBE_REPLICAS_PARTITIONS_MAX} partitions per request, got ${asked.length}; send several`) }
  }
  return { describeQuorum: { partitions: asked.map(({ topic, partition }) => describePartition(deps, image, topic, partition)) } }
}

function describePartition(deps: DescribeReplicasDeps, image: MetadataImage, topic: string, partition: number): PartitionQuorum {
  const t = image.topic(topic)
  const recorded = t?.partitionStates[partition]
  if (t === undefined || recorded === undefined) {
    return { topic, partition, leaderId: -1, error: wireError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${topic}-${partition}`) }
  }
  const replica = deps.partitions.replica(t.id, partition)
  const isr = deps.isr.of(t.id, partition)
  if (replica === undefined || isr === null) {
    const leaderId = replica?.leaderId ?? recorded.leader
    const where = leaderId >= 0 ? `broker ${leaderId} leads it: ask there` : 'no leader is known'
    return { topic, partition, leaderId, error: wireError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `this broker does not lead ${topic}-${partition}; ${where}`) }
  }
  const s = replica.status()
  const progress = new Map((s.progress ?? []).filter((p) => p.voter).map((p) => [p.id, p]))
  return {
    topic, partition, error: null, leaderId: s.id, leaderEpoch: s.epoch, highWatermark: s.highWatermark, logStartOffset: s.logStart, isr,
    voters: s.voters.map((id) => (id === s.id ? leaderItself(s) : follower(s, id, progress.get(id), deps.isr.tickMs))),
    observers: (s.progress ?? []).filter((p) => !p.voter).map((p) => follower(s, p.id, p, deps.isr.tickMs)),
  }
}

function leaderItself(s: Status): bitacora.IQuorumReplica {
  return { nodeId: s.id, logEndOffset: s.logEnd, flushedOffset: s.flushedEnd, lastFetchMsAgo: 0, lag: 0 }
}

/** A replica as the leader heard it; -1 where it has not fetched in this epoch. */
function follower(s: Status, id: number, p: ReplicaProgress | undefined, tickMs: number): bitacora.IQuorumReplica {
  if (p === undefined || p.fetchOffset < 0) return { nodeId: id, logEndOffset: -1, flushedOffset: -1, lastFetchMsAgo: -1, lag: -1 }
  return {
    nodeId: id, logEndOffset: p.fetchOffset, flushedOffset: p.flushedOffset, lastFetchMsAgo: p.ticksSinceFetch * tickMs,
    lag: Math.max(0, s.logEnd - p.fetchOffset), directoryId: p.directoryId ?? '',
  }
}
