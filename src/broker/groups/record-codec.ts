// Group records as the key and value bytes of __consumer_offsets records (proto/bitacora.proto,
// "Consumer group records"), and the snapshot of a partition's groups (its live records).
// Decoding checks the shape and throws GroupRecordError naming the problem.
import { bitacora } from '../../protocol/index.js'
import type { GroupRecord } from './core/records.js'
import type { MemberReconciliation } from './core/state.js'
import { topicPartitions, type TopicPartitions } from './core/topic-partitions.js'

export class GroupRecordError extends Error {
  override name = 'GroupRecordError'
}

export interface RecordBytes {
  readonly key: Uint8Array
  /** Null: a tombstone. */
  readonly value: Uint8Array | null
}

const STATES: readonly MemberReconciliation[] = ['stable', 'unrevoked', 'unreleased']

const listOf = (tps: TopicPartitions): bitacora.ITopicPartitionList[] => [...tps].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }))
const fromList = (list: bitacora.ITopicPartitionList[] | null | undefined): TopicPartitions =>
  topicPartitions((list ?? []).map((e) => [e.topic ?? '', e.partitions ?? []] as const))

export function encodeGroupRecord(r: GroupRecord): RecordBytes {
  const enc = <T>(type: { encode(m: T): { finish(): Uint8Array } }, v: T | null) => (v === null ? null : type.encode(v).finish())
  const key = (k: bitacora.IGroupRecordKey) => bitacora.GroupRecordKey.encode(k).finish()
  const g = r.groupId
  switch (r.kind) {
    case 'group':
      return {
        key: key({ group: { groupId: g } }),
        value: enc(bitacora.GroupEpochValue, r.value && { groupEpoch: r.value.groupEpoch, subscribedTopics: [...r.value.subscribedTopics].map(([topic, partitions]) => ({ topic, partitions })) }),
      }
    case 'member': {
      const m = r.value
      return {
        key: key({ member: { groupId: g, memberId: r.memberId } }),
        value: enc(bitacora.GroupMemberValue, m && {
          instanceId: m.instanceId ?? undefined, rackId: m.rackId ?? undefined, clientId: m.clientId, clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames], subscribedTopicRegex: m.subscribedTopicRegex ?? undefined, serverAssignor: m.serverAssignor,
          sessionTimeoutMs: m.sessionTimeoutMs, rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        }),
      }
    }
    case 'targetEpoch':
      return { key: key({ targetEpoch: { groupId: g } }), value: enc(bitacora.GroupTargetEpochValue, r.value === null ? null : { assignmentEpoch: r.value }) }
    case 'target':
      return { key: key({ target: { groupId: g, memberId: r.memberId } }), value: enc(bitacora.GroupTargetValue, r.value && { partitions: listOf(r.value) }) }
    case 'current': {
      const a = r.value
      return {
        key: key({ current: { groupId: g, memberId: r.memberId } }),
        value: enc(bitacora.GroupCurrentAssignmentValue, a && {
          memberEpoch: a.memberEpoch, previousMemberEpoch: a.previousMemberEpoch, state: STATES.indexOf(a.state), assigned: listOf(a.assigned), pendingRevocation: listOf(a.pendingRevocation),
        }),
      }
    }
    case 'offset':
      return {
        key: key({ offset: { groupId: g, topic: r.topic, partition: r.partition } }),
        value: enc(bitacora.GroupOffsetValue, r.value && { offset: r.value.offset, leaderEpoch: r.value.leaderEpoch, metadata: r.value.metadata, commitTimestampMs: r.value.commitTimestampMs }),
      }
  }
}

function decoded<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw new GroupRecordError(`${what} is not a valid group record: ${(err as Error).message}`)
  }
}

export function decodeGroupRecord(bytes: RecordBytes): GroupRecord {
  // Decoded sub-messages are instances, with every field's default set (as the casts say).
  const key = decoded('a record key', () => bitacora.GroupRecordKey.decode(bytes.key))
  const k = key as unknown as {
    group?: bitacora.GroupIdKey; member?: bitacora.GroupMemberKey; targetEpoch?: bitacora.GroupIdKey
    target?: bitacora.GroupMemberKey; current?: bitacora.GroupMemberKey; offset?: bitacora.GroupOffsetKey
  }
  const v = bytes.value
  const value = <T>(type: { decode(b: Uint8Array): T }): T | null => (v === null ? null : decoded('a record value', () => type.decode(v)))
  if (k.group) {
    const e = value(bitacora.GroupEpochValue)
    return { kind: 'group', groupId: k.group.groupId, value: e && { groupEpoch: e.groupEpoch, subscribedTopics: new Map((e.subscribedTopics as bitacora.TopicPartitionCount[]).map((t) => [t.topic, t.partitions])) } }
  }
  if (k.member) {
    const m = value(bitacora.GroupMemberValue)
    return {
      kind: 'member', groupId: k.member.groupId, memberId: k.member.memberId,
      value: m && {
        memberId: k.member.memberId, instanceId: m.instanceId ?? null, rackId: m.rackId ?? null, clientId: m.clientId, clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames, subscribedTopicRegex: m.subscribedTopicRegex ?? null, serverAssignor: m.serverAssignor,
        sessionTimeoutMs: m.sessionTimeoutMs, rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      },
    }
  }
  if (k.targetEpoch) return { kind: 'targetEpoch', groupId: k.targetEpoch.groupId, value: value(bitacora.GroupTargetEpochValue)?.assignmentEpoch ?? null }
  if (k.target) {
    const t = value(bitacora.GroupTargetValue)
    return { kind: 'target', groupId: k.target.groupId, memberId: k.target.memberId, value: t && fromList(t.partitions) }
  }
  if (k.current) {
    const a = value(bitacora.GroupCurrentAssignmentValue)
    if (a && STATES[a.state] === undefined) throw new GroupRecordError(`a current assignment record has state ${a.state}, not one of ${STATES.join(', ')}`)
    return {
      kind: 'current', groupId: k.current.groupId, memberId: k.current.memberId,
      value: a && { memberEpoch: a.memberEpoch, previousMemberEpoch: a.previousMemberEpoch, state: STATES[a.state], assigned: fromList(a.assigned), pendingRevocation: fromList(a.pendingRevocation) },
    }
  }
  if (k.offset) {
    const o = value(bitacora.GroupOffsetValue)
    return { kind: 'offset', groupId: k.offset.groupId, topic: k.offset.topic, partition: k.offset.partition, value: o && { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitTimestampMs: o.commitTimestampMs } }
  }
  throw new GroupRecordError('a record key names no known group record')
}

/** The live records (tombstones are left out) as one snapshot. */
export function encodeSnapshot(records: readonly RecordBytes[]): Uint8Array {
  return bitacora.GroupsSnapshot.encode({ records: records.filter((r) => r.value !== null).map((r) => ({ key: r.key, value: r.value })) }).finish()
}

export function decodeSnapshot(bytes: Uint8Array): RecordBytes[] {
  // A snapshot holds live records only (no tombstones).
  return (decoded('a groups snapshot', () => bitacora.GroupsSnapshot.decode(bytes)).records as bitacora.GroupsSnapshotRecord[]).map((r) => ({ key: r.key, value: r.value }))
}
