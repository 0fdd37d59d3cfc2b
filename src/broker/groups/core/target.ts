// The group epoch and the target assignment: a membership or subscription change (or a
// subscribed topic growing partitions) bumps the group epoch; the next heartbeat then computes
// the target at that epoch with the group's assignor.
import { ASSIGNORS } from '../limits.js'
import { ASSIGNOR_BY_NAME } from './assignors.js'
import type { GroupRecord } from './records.js'
import type { GroupState } from './state.js'
import { resolveSubscription } from './subscription.js'
import { EMPTY, equal } from './topic-partitions.js'

/** Partition count of every existing topic some member's subscription takes. */
export function subscribedTopics(group: GroupState, topics: ReadonlyMap<string, number>): Map<string, number> {
  const names = new Set<string>()
  for (const m of group.members.values()) for (const t of resolveSubscription(m.subscribedTopicNames, m.subscribedTopicRegex, topics.keys())) names.add(t)
  return new Map([...names].sort().map((t) => [t, topics.get(t)!]))
}

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([t, n]) => b.get(t) === n)
}

/** The group epoch record when membership changed or the subscribed topics did; none otherwise. */
export function groupEpochBump(group: GroupState, topics: ReadonlyMap<string, number>, membershipChanged: boolean): GroupRecord[] {
  const subscribed = subscribedTopics(group, topics)
  if (!membershipChanged && sameCounts(subscribed, group.subscribedTopics)) return []
  return [{ kind: 'group', groupId: group.groupId, value: { groupEpoch: group.groupEpoch + 1, subscribedTopics: subscribed } }]
}

/** The assignor most members ask for (ties: the earlier in ASSIGNORS). */
export function groupAssignor(group: GroupState): string {
  const votes = new Map<string, number>()
  for (const m of group.members.values()) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1)
  let best: string = ASSIGNORS[0]
  for (const name of ASSIGNORS) if ((votes.get(name) ?? 0) > (votes.get(best) ?? 0)) best = name
  return best
}

/** The target assignment records when the target is older than the group epoch; none otherwise. */
export function computeTarget(group: GroupState): GroupRecord[] {
  if (group.assignmentEpoch >= group.groupEpoch) return []
  // The partition counts recorded at the group epoch, not the cluster's now: a replay computes the same.
  const members = new Map(
    [...group.members.values()].map((m) => [m.memberId, resolveSubscription(m.subscribedTopicNames, m.subscribedTopicRegex, group.subscribedTopics.keys())]),
  )
  const target = ASSIGNOR_BY_NAME[groupAssignor(group)]({ members, topics: group.subscribedTopics, previous: group.target })
  const records: GroupRecord[] = []
  for (const [memberId, partitions] of [...target].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!equal(partitions, group.target.get(memberId) ?? EMPTY)) records.push({ kind: 'target', groupId: group.groupId, memberId, value: partitions })
  }
  records.push({ kind: 'targetEpoch', groupId: group.groupId, value: group.groupEpoch })
  return records
}
