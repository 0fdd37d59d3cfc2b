// The records a group is made of, as written to its __consumer_offsets partition, and their
// replay. The core never changes a group but through these: a handler decides records and
// replays them onto the group, and a coordinator that takes over a partition replays the same
// records from the log, so both reach the same state. Each record has a key (compaction keeps
// the last value per key) and a value; null is a tombstone.
import type { CommittedOffset, GroupState, MemberAssignment, MemberMetadata } from './state.js'
import { offsetKey } from './state.js'
import type { TopicPartitions } from './topic-partitions.js'

export interface GroupEpochValue {
  readonly groupEpoch: number
  readonly subscribedTopics: ReadonlyMap<string, number>
}

export type GroupRecord =
  | { readonly kind: 'group'; readonly groupId: string; readonly value: GroupEpochValue | null }
  | { readonly kind: 'member'; readonly groupId: string; readonly memberId: string; readonly value: MemberMetadata | null }
  | { readonly kind: 'targetEpoch'; readonly groupId: string; readonly value: number | null }
  | { readonly kind: 'target'; readonly groupId: string; readonly memberId: string; readonly value: TopicPartitions | null }
  | { readonly kind: 'current'; readonly groupId: string; readonly memberId: string; readonly value: MemberAssignment | null }
  | { readonly kind: 'offset'; readonly groupId: string; readonly topic: string; readonly partition: number; readonly value: CommittedOffset | null }

function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V | null): ReadonlyMap<string, V> {
  const next = new Map(map)
  if (value === null) next.delete(key)
  else next.set(key, value)
  return next
}

/** The group after one record (of this group). */
export function replay(group: GroupState, record: GroupRecord): GroupState {
  if (record.groupId !== group.groupId) throw new Error(`record of group ${record.groupId} replayed onto ${group.groupId}`)
  switch (record.kind) {
    case 'group':
      return { ...group, groupEpoch: record.value?.groupEpoch ?? 0, subscribedTopics: record.value?.subscribedTopics ?? new Map() }
    case 'member':
      return {
        ...group,
        members: withEntry(group.members, record.memberId, record.value),
        deadlines: record.value === null ? withEntry(group.deadlines, record.memberId, null) : group.deadlines,
      }
    case 'targetEpoch':
      return { ...group, assignmentEpoch: record.value ?? 0 }
    case 'target':
      return { ...group, target: withEntry(group.target, record.memberId, record.value) }
    case 'current':
      return { ...group, current: withEntry(group.current, record.memberId, record.value) }
    case 'offset':
      return { ...group, offsets: withEntry(group.offsets, offsetKey(record.topic, record.partition), record.value) }
  }
}

export function replayAll(group: GroupState, records: readonly GroupRecord[]): GroupState {
  return records.reduce(replay, group)
}

/** The records that remove a member from its group (tombstones of all it wrote). */
export function memberRemoval(groupId: string, memberId: string): GroupRecord[] {
  return [
    { kind: 'current', groupId, memberId, value: null },
    { kind: 'target', groupId, memberId, value: null },
    { kind: 'member', groupId, memberId, value: null },
  ]
}

/** The live records that rebuild `group` from nothing (what a snapshot keeps of it). */
export function groupRecords(group: GroupState): GroupRecord[] {
  const g = group.groupId
  const records: GroupRecord[] = []
  if (group.groupEpoch > 0) records.push({ kind: 'group', groupId: g, value: { groupEpoch: group.groupEpoch, subscribedTopics: group.subscribedTopics } })
  for (const [memberId, value] of group.members) records.push({ kind: 'member', groupId: g, memberId, value })
  if (group.assignmentEpoch > 0) records.push({ kind: 'targetEpoch', groupId: g, value: group.assignmentEpoch })
  for (const [memberId, value] of group.target) records.push({ kind: 'target', groupId: g, memberId, value })
  for (const [memberId, value] of group.current) records.push({ kind: 'current', groupId: g, memberId, value })
  for (const [key, value] of group.offsets) {
    const at = key.lastIndexOf('\u0000')
    records.push({ kind: 'offset', groupId: g, topic: key.slice(0, at), partition: Number(key.slice(at + 1)), value })
  }
  return records
}
