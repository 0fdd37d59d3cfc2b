// What a partition's replica tells a client about its leader: the hint on NOT_LEADER_OR_FOLLOWER
// (KIP-951: the leader this broker knows, with its epoch, so the client re-routes without a
// metadata round trip, and only if that is newer than what it has), and the fencing of a
// request by the leader epoch the client knows (KIP-320), as Kafka's Partition.getLocalLog.
import { bitacora, ErrorCode, wireError } from '../../protocol/index.js'
import type { PartitionReplica } from '../partition/replica.js'
import { toPartitionFailure } from './partition-errors.js'

/** The epoch a request asks to be checked against; absent or -1 (old clients, raw reads): none. */
export type RequestedEpoch = number | null | undefined

export interface LeaderHint {
  leaderHint: number
  leaderHintEpoch: number
}

/** The leader `r` knows now (-1 while there is none) and the epoch it leads, read together. */
export function leaderHint(r: PartitionReplica): LeaderHint {
  return { leaderHint: r.leaderId ?? -1, leaderHintEpoch: r.leaderEpoch }
}

/**
 * Null when the request may go on: its epoch is `r`'s or was not given. Older: the client's
 * metadata is stale (FENCED_LEADER_EPOCH, with the hint). Newer: this replica has not heard
 * of that epoch yet (UNKNOWN_LEADER_EPOCH). Both retriable: the client refreshes and retries.
 */
export function fenceByEpoch(
  r: PartitionReplica, requested: RequestedEpoch,
): { error: bitacora.IError; leaderHint?: number; leaderHintEpoch?: number } | null {
  if (requested === null || requested === undefined || requested === -1) return null
  const current = r.leaderEpoch
  if (requested < current) {
    return { error: wireError(ErrorCode.FENCED_LEADER_EPOCH, `leader epoch ${requested} is older than this partition's ${current}`), ...leaderHint(r) }
  }
  if (requested > current) {
    return { error: wireError(ErrorCode.UNKNOWN_LEADER_EPOCH, `leader epoch ${requested} is newer than this replica knows (${current})`) }
  }
  return null
}

/** The NOT_LEADER_OR_FOLLOWER answer of a replica that does not lead, with its hint. */
export function notLeader(r: PartitionReplica, message = 'this broker does not lead the partition'): { error: bitacora.IError } & LeaderHint {
  return { error: wireError(ErrorCode.NOT_LEADER_OR_FOLLOWER, message), ...leaderHint(r) }
}

/**
 * A failure below the protocol layer as a wire error; a NOT_LEADER_OR_FOLLOWER one carries the
 * leader `r` knows now (newer than, or the same as, the one known when it failed).
 */
export function failureOf(r: PartitionReplica, err: unknown): { error: bitacora.IError; leaderHint: number; leaderHintEpoch?: number } {
  const failure = toPartitionFailure(err)
  return failure.error.code === ErrorCode.NOT_LEADER_OR_FOLLOWER ? { ...failure, ...leaderHint(r) } : failure
}
