// A consumer group as the coordinator holds it (KIP-848). Everything here but `deadlines` is
// rebuilt by replaying the group's records (records.ts); deadlines are the coordinator's clock
// and start again when a coordinator loads the group.
import type { TopicPartitions } from './topic-partitions.js'

/** Where a member stands in its reconciliation with the target assignment. */
export type MemberReconciliation =
  /** It owns what the target gives it at its epoch (or all of it that is free: see unreleased). */
  | 'stable'
  /** It was asked to give up `pendingRevocation` and has not yet acknowledged (its epoch waits). */
  | 'unrevoked'
  /** It is at the target epoch but part of its target is still owned by another member. */
  | 'unreleased'

/** What a member told the coordinator about itself (the member record). */
export interface MemberMetadata {
  readonly memberId: string
  /** Static membership: a restarted member with the same instance id takes this member's place. */
  readonly instanceId: string | null
  readonly rackId: string | null
  readonly clientId: string
  readonly clientHost: string
  readonly subscribedTopicNames: readonly string[]
  /** An RE2 pattern matched against whole topic names; null when subscribed by names. */
  readonly subscribedTopicRegex: string | null
  readonly serverAssignor: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
}

/** What the member owns now (the current assignment record). */
export interface MemberAssignment {
  readonly memberEpoch: number
  readonly previousMemberEpoch: number
  readonly state: MemberReconciliation
  /** Partitions the member may consume now. */
  readonly assigned: TopicPartitions
  /** Partitions it must stop consuming and has not yet said it did: still its own. */
  readonly pendingRevocation: TopicPartitions
}

/** A committed offset (the offset commit record). */
export interface CommittedOffset {
  readonly offset: number
  /** The leader epoch of the record before `offset` as the consumer saw it, or -1. */
  readonly leaderEpoch: number
  readonly metadata: string
  readonly commitTimestampMs: number
}

export interface MemberDeadlines {
  readonly sessionDeadlineMs: number
  /** While the member is 'unrevoked': it loses the group past this. */
  readonly revocationDeadlineMs: number | null
}

export interface GroupState {
  readonly groupId: string
  /** Bumped on every membership or subscription change: a target computed at a lower epoch is stale. */
  readonly groupEpoch: number
  /** The group epoch the target assignment was computed at. */
  readonly assignmentEpoch: number
  /** Partition count of each subscribed topic at the last group epoch (a change bumps the epoch). */
  readonly subscribedTopics: ReadonlyMap<string, number>
  readonly members: ReadonlyMap<string, MemberMetadata>
  readonly current: ReadonlyMap<string, MemberAssignment>
  readonly target: ReadonlyMap<string, TopicPartitions>
  /** Committed offsets by `${topic}\u0000${partition}` (offsetKey). */
  readonly offsets: ReadonlyMap<string, CommittedOffset>
  readonly deadlines: ReadonlyMap<string, MemberDeadlines>
}

export function emptyGroup(groupId: string): GroupState {
  return {
    groupId,
    groupEpoch: 0,
    assignmentEpoch: 0,
    subscribedTopics: new Map(),
    members: new Map(),
    current: new Map(),
    target: new Map(),
    offsets: new Map(),
    deadlines: new Map(),
  }
}

export const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`
export function splitOffsetKey(key: string): [string, number] {
  const at = key.lastIndexOf('\u0000')
  return [key.slice(0, at), Number(key.slice(at + 1))]
}

/** Kafka's group states as describe shows them, derived from the state. */
export type GroupPhase = 'empty' | 'assigning' | 'reconciling' | 'stable'

export function groupPhase(group: GroupState): GroupPhase {
  if (group.members.size === 0) return 'empty'
  if (group.assignmentEpoch < group.groupEpoch) return 'assigning'
  // A static member away (epoch -2) keeps its place and its partitions: it reconciles when back.
  for (const a of group.current.values()) if (a.memberEpoch !== -2 && (a.state !== 'stable' || a.memberEpoch !== group.assignmentEpoch)) return 'reconciling'
  return 'stable'
}

/** A group no record keeps alive (no member, no offset) is forgotten. */
export const isDead = (group: GroupState) => group.members.size === 0 && group.offsets.size === 0
