// The coordinator's clock on a group: a member whose session timed out, or that did not
// acknowledge a revocation within its rebalance timeout, is removed (its partitions go back to
// the assignor; a zombie's next heartbeat or commit is refused and it joins again).
import { memberRemoval, replayAll, type GroupRecord } from './records.js'
import type { GroupState, MemberDeadlines } from './state.js'
import { groupEpochBump } from './target.js'

export interface Expiry {
  readonly group: GroupState
  readonly records: readonly GroupRecord[]
  /** The members removed, and why. */
  readonly removed: readonly { readonly memberId: string; readonly reason: 'session' | 'revocation' }[]
}

export function expire(group: GroupState, nowMs: number, topics: ReadonlyMap<string, number>): Expiry {
  const deadlines = new Map(group.deadlines)
  const removed: { memberId: string; reason: 'session' | 'revocation' }[] = []
  for (const [memberId, m] of group.members) {
    const d = deadlines.get(memberId)
    const state = group.current.get(memberId)?.state
    if (!d) {
      // A group just loaded from the log: every member gets a full session from now.
      deadlines.set(memberId, { sessionDeadlineMs: nowMs + m.sessionTimeoutMs, revocationDeadlineMs: state === 'unrevoked' ? nowMs + m.rebalanceTimeoutMs : null })
    } else if (d.sessionDeadlineMs <= nowMs) removed.push({ memberId, reason: 'session' })
    else if (d.revocationDeadlineMs !== null && d.revocationDeadlineMs <= nowMs) removed.push({ memberId, reason: 'revocation' })
  }
  const records: GroupRecord[] = removed.flatMap((r) => memberRemoval(group.groupId, r.memberId))
  let next = replayAll({ ...group, deadlines }, records)
  if (removed.length > 0) {
    const bump = groupEpochBump(next, topics, true)
    records.push(...bump)
    next = replayAll(next, bump)
  }
  return { group: next, records, removed }
}

/** The earliest deadline of the group, or null: when the coordinator must call expire next. */
export function nextDeadline(group: GroupState): number | null {
  let next: number | null = null
  const earlier = (t: number | null) => {
    if (t !== null && (next === null || t < next)) next = t
  }
  for (const d of group.deadlines.values() as Iterable<MemberDeadlines>) {
    earlier(d.sessionDeadlineMs)
    earlier(d.revocationDeadlineMs)
  }
  return next
}
