// Committed offsets: OffsetCommit validated against the member's epoch (a fenced member's commit
// is refused, so a zombie never moves a position its successor owns), OffsetFetch, and group
// deletion. A commit with no member (epoch -1) is an admin's or a manually assigned consumer's,
// accepted only while the group has no members.
import { GROUP_ID_CHARS_MAX, OFFSET_METADATA_CHARS_MAX, PARTITIONS_PER_REQUEST_MAX } from '../limits.js'
import { groupError, type GroupError } from './errors.js'
import { replayAll, type GroupRecord } from './records.js'
import { splitOffsetKey, offsetKey, type CommittedOffset, type GroupState } from './state.js'
import type { Step } from './heartbeat.js'

export interface OffsetToCommit {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
}

export interface CommitRequest {
  readonly groupId: string
  /** Empty with epoch -1: a commit from outside the group's membership. */
  readonly memberId: string
  readonly memberEpoch: number
  readonly offsets: readonly OffsetToCommit[]
}

export interface PartitionResult {
  readonly topic: string
  readonly partition: number
  readonly error: GroupError | null
}

export interface CommitResponse {
  /** Set when the whole commit was refused (then every partition carries it too). */
  readonly error: GroupError | null
  readonly partitions: readonly PartitionResult[]
}

export function groupIdProblem(groupId: string): GroupError | null {
  return groupId.length === 0 || groupId.length > GROUP_ID_CHARS_MAX ? groupError('INVALID_GROUP_ID', `a group id is 1 to ${GROUP_ID_CHARS_MAX} characters, not ${groupId.length}`) : null
}

/** Why this member may not commit now, or null. */
function commitFence(group: GroupState, request: CommitRequest): GroupError | null {
  if (request.memberEpoch < 0) {
    if (group.members.size === 0) return null
    return groupError('UNKNOWN_MEMBER_ID', `group ${group.groupId} has members: only they commit its offsets (stop them, or commit as a member)`)
  }
  const current = group.current.get(request.memberId)
  if (!current) return groupError('UNKNOWN_MEMBER_ID', `member ${request.memberId} is not in group ${group.groupId} (removed after its session timed out?): join again`)
  if (request.memberEpoch > current.memberEpoch) {
    return groupError('FENCED_MEMBER_EPOCH', `member ${request.memberId} committed at epoch ${request.memberEpoch}, ahead of its epoch ${current.memberEpoch}: it was fenced; join again`)
  }
  if (request.memberEpoch < current.memberEpoch) {
    return groupError('STALE_MEMBER_EPOCH', `member ${request.memberId} committed at epoch ${request.memberEpoch}, behind its epoch ${current.memberEpoch}: heartbeat, then commit again`)
  }
  return null
}

function offsetProblem(o: OffsetToCommit): GroupError | null {
  if (o.topic.length === 0) return groupError('INVALID_REQUEST', 'a committed offset names no topic')
  if (!Number.isSafeInteger(o.partition) || o.partition < 0) return groupError('INVALID_REQUEST', `partition ${o.partition} is not a partition index`)
  if (!Number.isSafeInteger(o.offset) || o.offset < 0) return groupError('INVALID_REQUEST', `offset ${o.offset} of ${o.topic}-${o.partition} is not an offset (0 or more)`)
  if (!Number.isSafeInteger(o.leaderEpoch) || o.leaderEpoch < -1) return groupError('INVALID_REQUEST', `leader epoch ${o.leaderEpoch} of ${o.topic}-${o.partition} is not an epoch (-1 when unknown)`)
  if (o.metadata.length > OFFSET_METADATA_CHARS_MAX) return groupError('OFFSET_METADATA_TOO_LARGE', `the commit metadata of ${o.topic}-${o.partition} is ${o.metadata.length} characters, more than ${OFFSET_METADATA_CHARS_MAX}`)
  return null
}

export function commitOffsets(group: GroupState, request: CommitRequest, nowMs: number): Step<CommitResponse> {
  const refuseAll = (error: GroupError): Step<CommitResponse> => ({
    group,
    records: [],
    response: { error, partitions: request.offsets.map((o) => ({ topic: o.topic, partition: o.partition, error })) },
  })
  const whole =
    groupIdProblem(request.groupId) ??
    (request.offsets.length > PARTITIONS_PER_REQUEST_MAX ? groupError('INVALID_REQUEST', `a commit carries at most ${PARTITIONS_PER_REQUEST_MAX} partitions`) : null) ??
    commitFence(group, request)
  if (whole) return refuseAll(whole)
  const records: GroupRecord[] = []
  const partitions: PartitionResult[] = []
  for (const o of request.offsets) {
    const error = offsetProblem(o)
    partitions.push({ topic: o.topic, partition: o.partition, error })
    if (error) continue
    const value: CommittedOffset = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestampMs: nowMs }
    records.push({ kind: 'offset', groupId: group.groupId, topic: o.topic, partition: o.partition, value })
  }
  return { group: replayAll(group, records), records, response: { error: null, partitions } }
}

export interface FetchedOffset {
  readonly topic: string
  readonly partition: number
  /** -1: nothing committed. */
  readonly offset: number
  readonly leaderEpoch: number
  readonly metadata: string
}

/** The committed offsets of the partitions asked for (null: all the group has). */
export function fetchOffsets(group: GroupState, wanted: readonly { topic: string; partitions: readonly number[] }[] | null): FetchedOffset[] {
  const one = (topic: string, partition: number): FetchedOffset => {
    const c = group.offsets.get(offsetKey(topic, partition))
    return { topic, partition, offset: c?.offset ?? -1, leaderEpoch: c?.leaderEpoch ?? -1, metadata: c?.metadata ?? '' }
  }
  if (wanted === null) {
    return [...group.offsets.keys()]
      .map(splitOffsetKey)
      .sort(([a, p], [b, q]) => (a < b ? -1 : a > b ? 1 : p - q))
      .map(([t, p]) => one(t, p))
  }
  return wanted.flatMap((w) => w.partitions.map((p) => one(w.topic, p)))
}

/**
 * Deleting a group: refused while it has members; otherwise tombstones for all it holds, the
 * group's own records (target epoch, group epoch) last. They need not be written at once: any
 * prefix of them leaves either the group, with less in it, to be deleted again, or nothing of it.
 */
export function deleteGroup(group: GroupState): { records: GroupRecord[]; error: GroupError | null } {
  if (group.members.size > 0) return { records: [], error: groupError('NON_EMPTY_GROUP', `group ${group.groupId} has ${group.members.size} members: stop them first`) }
  const g = group.groupId
  const records: GroupRecord[] = [...group.offsets.keys()].map(splitOffsetKey).map(([topic, partition]) => ({ kind: 'offset', groupId: g, topic, partition, value: null }) as const)
  for (const memberId of group.target.keys()) records.push({ kind: 'target', groupId: g, memberId, value: null })
  records.push({ kind: 'targetEpoch', groupId: g, value: null }, { kind: 'group', groupId: g, value: null })
  return { records, error: null }
}
