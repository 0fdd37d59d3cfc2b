// What the rest of the broker needs of the controller quorum (the `__cluster_metadata` Raft
// group every node hosts: a voter on controller nodes, an observer on the others). The API
// handlers (describe-quorum, add-voter, remove-voter, metadata) take this, not the quorum's
// implementation, so they stay small and testable against a real one-node quorum.
import type { NodeId } from '../../../raft/types.js'

/** One replica of the metadata log, as the active controller sees it. */
export interface QuorumReplicaStatus {
  readonly nodeId: NodeId
  /** Where the node listens (from the voter list or its registration); '' if not known. */
  readonly url: string
  /** -1: the leader has not heard from it yet. */
  readonly logEndOffset: number
  /** -1: it never fetched from this leader. */
  readonly lastFetchMsAgo: number
  /** The leader's log end minus this replica's; 0 for the leader; -1: not known. */
  readonly lag: number
  /** KIP-853: a voter's as the voter set records it, an observer's as its fetches carry it; '' if not known. */
  readonly directoryId?: string
}

export interface QuorumStatus {
  readonly leaderId: NodeId | null
  readonly leaderEpoch: number
  readonly highWatermark: number
  readonly voters: readonly QuorumReplicaStatus[]
  readonly observers: readonly QuorumReplicaStatus[]
}

/** Why a quorum operation was refused; `code` is an ErrorCode name from the proto. */
export class QuorumError extends Error {
  override readonly name = 'QuorumError'
  constructor(
    readonly code: 'NOT_CONTROLLER' | 'REQUEST_TIMED_OUT' | 'INVALID_REQUEST' | 'UNKNOWN_SERVER_ERROR',
    message: string,
    /** NOT_CONTROLLER: the active controller, when known (the client retries there). */
    readonly controllerId: NodeId | null = null,
  ) {
    super(message)
  }
}

export interface ControllerQuorum {
  /** This node's view; positions of other replicas only on the active controller. */
  status(): QuorumStatus
  /** The active controller, if this node knows one. */
  readonly controllerId: NodeId | null
  /**
   * Active controller only (else QuorumError NOT_CONTROLLER): adds `nodeId` at `url` as a voter,
   * once it has caught up as an observer (KIP-853: one change at a time). Resolves with the
   * voter set in force; rejects with a QuorumError naming why (REQUEST_TIMED_OUT if it did not
   * catch up within `timeoutMs`; the quorum is never blocked waiting for it).
   */
  addVoter(nodeId: NodeId, url: string, timeoutMs: number): Promise<readonly NodeId[]>
  /** Active controller only. Removing the last voter is refused (INVALID_REQUEST). */
  removeVoter(nodeId: NodeId): Promise<readonly NodeId[]>
}
