// DescribeQuorum: the metadata quorum as this node sees it, as Kafka's `kafka-metadata-quorum
// describe --status --replication` shows it: cluster id, leader, epoch, high watermark, each
// voter's and observer's log end, lag and last fetch, and the registered brokers with their
// fenced state. Any node answers; only the active controller knows the other replicas'
// positions (elsewhere they are -1), so a client wanting them asks the leader it names.
import type { BrokerImage } from '../../metadata/image.js'
import type { bitacora } from '../../protocol/index.js'
import type { ControllerQuorum, QuorumReplicaStatus } from '../controller/node/quorum.js'

export interface DescribeQuorumDeps {
  readonly clusterId: string
  /** Absent on a node built without a quorum: the answer is an error saying so. */
  readonly quorum: ControllerQuorum
  /**
   * The hook for brokers: those registered in the metadata image, with their fenced state
   * (empty until brokers register with the controller).
   */
  readonly registeredBrokers: () => readonly BrokerImage[]
}

export function describeQuorum(deps: DescribeQuorumDeps): { describeQuorum: bitacora.IDescribeQuorumResponse } | { error: bitacora.IError } {
  const status = deps.quorum.status()
  return {
    describeQuorum: {
      clusterId: deps.clusterId,
      leaderId: status.leaderId ?? -1,
      leaderEpoch: status.leaderEpoch,
      highWatermark: status.highWatermark,
      voters: status.voters.map(replica),
      observers: status.observers.map(replica),
      brokers: deps.registeredBrokers().map((b) => ({ id: b.brokerId, url: b.url, rack: b.rack, fenced: b.fenced })),
    },
  }
}

function replica(r: QuorumReplicaStatus): bitacora.IQuorumReplica {
  const known = r.directoryId === undefined || r.directoryId === '' ? {} : { directoryId: r.directoryId }
  return { nodeId: r.nodeId, url: r.url, logEndOffset: r.logEndOffset, lastFetchMsAgo: r.lastFetchMsAgo, lag: r.lag, ...known }
}
