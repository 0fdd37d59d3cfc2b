// Hands leaderships of this broker's replicas to other replicas (the TransferLeaders API, and the
// broker itself when it is asked by its own node): each transfer starts in the replica's core,
// which holds proposals until the target has caught up and then resigns naming it; it is over
// once this replica no longer leads. All of them run at once, each bounded by `timeoutMs`.
import { ErrorCode } from '../../protocol/index.js'
import type { NodeId } from '../../raft/types.js'
import type { PartitionReplica } from './replica.js'

export interface LeadershipTransfer {
  readonly topicId: string
  readonly partition: number
  readonly target: NodeId
}

/** How one transfer ended: NONE once this broker no longer leads the partition. */
export interface TransferOutcome {
  readonly code: ErrorCode
  readonly message: string
}

export function transferLeaderships(
  replicas: { replica(topicId: string, partition: number): PartitionReplica | undefined }, transfers: readonly LeadershipTransfer[], timeoutMs: number,
): Promise<TransferOutcome[]> {
  return Promise.all(transfers.map((t) => transferOne(replicas.replica(t.topicId, t.partition), t, timeoutMs)))
}

async function transferOne(r: PartitionReplica | undefined, t: LeadershipTransfer, timeoutMs: number): Promise<TransferOutcome> {
  const what = `partition ${t.partition} of topic ${t.topicId}`
  if (r === undefined) return { code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `this broker holds no replica of ${what}` }
  // A transfer holds writes until the target has caught up: never start one towards a replica that is not fetching.
  if (r.isLeader && t.target !== r.leaderId && !r.hearsFrom(t.target)) {
    return { code: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, message: `broker ${t.target} has not fetched ${what} lately: it is down, or still starting` }
  }
  let started
  try {
    started = await r.transferLeadership(t.target)
  } catch (err) {
    return { code: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: `${what}: ${(err as Error).message}` }
  }
  if (!started.ok) {
    switch (started.reason) {
      case 'notLeader': return { code: ErrorCode.NOT_LEADER_OR_FOLLOWER, message: `this broker does not lead ${what}${started.leaderId === null ? '' : `; broker ${started.leaderId} does`}` }
      case 'self': return { code: ErrorCode.ELECTION_NOT_NEEDED, message: `broker ${t.target} leads ${what} already` }
      case 'notVoter': return { code: ErrorCode.INVALID_REQUEST, message: `broker ${t.target} is not a replica of ${what}` }
      case 'inProgress': break // a transfer is under way already: wait for it like our own
    }
  }
  return (await handedOver(r, timeoutMs))
    ? { code: ErrorCode.NONE, message: '' }
    : { code: ErrorCode.REQUEST_TIMED_OUT, message: `${what}: broker ${t.target} did not catch up and take over within ${timeoutMs} ms (this broker leads it again)` }
}

/** Resolves true once `r` no longer leads, false after `timeoutMs`. */
function handedOver(r: PartitionReplica, timeoutMs: number): Promise<boolean> {
  if (!r.isLeader) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs)
    const off = r.onLeadershipChange((l) => {
      if (l.role !== 'leader') finish(true)
    })
    function finish(moved: boolean) {
      clearTimeout(timer)
      off()
      resolve(moved)
    }
  })
}
