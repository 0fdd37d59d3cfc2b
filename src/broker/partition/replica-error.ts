import { ErrorCode } from '../../protocol/index.js'
import type { NodeId } from '../../raft/types.js'

/** A partition-level failure with its wire code and, for NOT_LEADER, a leader hint. */
export class ReplicaError extends Error {
  override name = 'ReplicaError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly leaderHint: NodeId | null = null,
  ) {
    super(message)
  }
}
