// One member's step toward the target assignment (KIP-848's current assignment builder):
// partitions it keeps stay; partitions it must give up are revoked first and stay its own until
// it says it stopped consuming them; only then, on their new owner's next heartbeat, are they
// assigned to it. So no partition is ever owned by two members: owned = assigned + pending
// revocation, and a partition is assigned only when no other member owns it.
import type { MemberAssignment } from './state.js'
import { EMPTY, equal, filter, intersect, intersects, isEmpty, minus, union, type TopicPartitions } from './topic-partitions.js'

export interface ReconcileInput {
  readonly current: MemberAssignment
  readonly targetEpoch: number
  readonly target: TopicPartitions
  /** What the member says it owns in this heartbeat, or null when it did not say. */
  readonly reported: TopicPartitions | null
  /** Whether another member owns the partition now. */
  readonly ownedByOthers: (topic: string, partition: number) => boolean
}

export function reconcile(input: ReconcileInput): MemberAssignment {
  let current = input.current
  if (current.state === 'unrevoked') {
    // The member keeps the revoked partitions until it reports owning none of them.
    if (input.reported === null || intersects(input.reported, current.pendingRevocation)) return current
    current = { ...current, state: 'stable', pendingRevocation: EMPTY }
  }
  if (current.state === 'stable' && current.memberEpoch === input.targetEpoch && equal(current.assigned, input.target)) return current
  const keep = intersect(current.assigned, input.target)
  const revoke = minus(current.assigned, input.target)
  if (!isEmpty(revoke)) {
    return { ...current, state: 'unrevoked', assigned: keep, pendingRevocation: revoke }
  }
  const wanted = minus(input.target, keep)
  const free = filter(wanted, (topic, p) => !input.ownedByOthers(topic, p))
  return {
    memberEpoch: input.targetEpoch,
    previousMemberEpoch: input.targetEpoch === current.memberEpoch ? current.previousMemberEpoch : current.memberEpoch,
    state: equal(free, wanted) ? 'stable' : 'unreleased',
    assigned: union(keep, free),
    pendingRevocation: EMPTY,
  }
}
