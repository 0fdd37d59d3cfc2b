// The coordinator's clock on a group: a member whose session timed out, or that did not
// acknowledge a revocation within its rebalance timeout, is removed (its partitions go back to
// the assignor; a zombie's next heartbeat or commit is refused and it joins again).
// planExpiry plans one check over a partition's groups as writes that each fit one batch.
import { packInBatches } from './batches.js'
import { memberRemoval, replayAll, type GroupRecord } from './records.js'
import type { GroupState, MemberDeadlines } from './state.js'
import { groupEpochBump } from './target.js'

export interface Expiry {
  readonly group: GroupState
  readonly records: readonly GroupRecord[]
  /** The members removed, and why. */
  readonly removed: readonly { readonly memberId: string; readonly reason: 'session' | 'revocation' }[]
}

/**
 * Removes the members whose deadlines passed; `removedMax` of them at most (the rest stay expired
 * and in the group: a later call removes them). With 0 it only starts the deadlines of members
 * that have none.
 */
export function expire(group: GroupState, nowMs: number, topics: ReadonlyMap<string, number>, removedMax = Infinity): Expiry {
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
  removed.splice(removedMax)
  const records: GroupRecord[] = removed.flatMap((r) => memberRemoval(group.groupId, r.memberId))
  let next = replayAll({ ...group, deadlines }, records)
  if (removed.length > 0) {
    const bump = groupEpochBump(next, topics, true)
    records.push(...bump)
    next = replayAll(next, bump)
  }
  return { group: next, records, removed }
}

export interface ExpiryPlan {
  /** What to write, in order, each one batch: a single batch whenever every group's expiry fits in one. */
  readonly batches: readonly (readonly GroupRecord[])[]
  /** Each group's deadlines once the batches are written (members given their first deadline included). */
  readonly deadlines: ReadonlyMap<string, ReadonlyMap<string, MemberDeadlines>>
  /** The members the batches remove. */
  readonly removed: readonly { readonly groupId: string; readonly memberId: string; readonly reason: 'session' | 'revocation' }[]
  /**
   * Groups with an expired member whose removal alone does not fit one batch (a group epoch
   * record naming thousands of subscribed topics, say): those members stay, expired, until the
   * limit is raised. `records` is the smallest removal that did not fit.
   */
  readonly unwritable: readonly { readonly groupId: string; readonly expired: number; readonly records: readonly GroupRecord[] }[]
}

/**
 * One expiry check over groups (a partition's): every expired member removed, as few batches as
 * `fits` allows. All groups in one batch when that fits; otherwise each group's expiry is a unit
 * of its own and a group too large for one batch removes fewer members per step (each step its
 * members' tombstones and a group epoch bump, so any prefix of the batches is a consistent log),
 * down to one member; the units are then packed into batches in order.
 */
export function planExpiry(groups: readonly GroupState[], nowMs: number, topics: ReadonlyMap<string, number>, fits: (records: readonly GroupRecord[]) => boolean): ExpiryPlan {
  const expiries = groups.map((g) => expire(g, nowMs, topics))
  const deadlines = new Map<string, ReadonlyMap<string, MemberDeadlines>>()
  const removed: { groupId: string; memberId: string; reason: 'session' | 'revocation' }[] = []
  const all = expiries.flatMap((e) => e.records)
  if (all.length === 0 || fits(all)) {
    for (const e of expiries) {
      deadlines.set(e.group.groupId, e.group.deadlines)
      for (const r of e.removed) removed.push({ groupId: e.group.groupId, ...r })
    }
    return { batches: all.length === 0 ? [] : [all], deadlines, removed, unwritable: [] }
  }
  const units: (readonly GroupRecord[])[] = []
  const unwritable: { groupId: string; expired: number; records: readonly GroupRecord[] }[] = []
  for (let i = 0; i < groups.length; i++) {
    const e = expiries[i]
    const steps = e.records.length === 0 || fits(e.records) ? { steps: [e], group: e.group, unfit: null } : expireInSteps(groups[i], nowMs, topics, fits, e.removed.length)
    for (const s of steps.steps) {
      if (s.records.length > 0) units.push(s.records)
      for (const r of s.removed) removed.push({ groupId: s.group.groupId, ...r })
    }
    deadlines.set(steps.group.groupId, steps.group.deadlines)
    if (steps.unfit !== null) unwritable.push({ groupId: steps.group.groupId, expired: steps.unfit.expired, records: steps.unfit.records })
  }
  const packed = packInBatches(units, fits)
  if (packed.unfit !== null) throw new Error(`expiry step ${packed.unfit} of ${units.length} fit alone when planned, not when packed`)
  return { batches: packed.batches, deadlines, removed, unwritable }
}

/**
 * A group whose expiry does not fit one batch, removed in steps of fewer members: halving the
 * members per step until one fits, keeping that size while it does. Stops at a member whose
 * removal alone does not fit (`unfit`; the group then keeps it, with every member's deadline).
 */
function expireInSteps(
  group: GroupState,
  nowMs: number,
  topics: ReadonlyMap<string, number>,
  fits: (records: readonly GroupRecord[]) => boolean,
  expired: number,
): { steps: Expiry[]; group: GroupState; unfit: { expired: number; records: readonly GroupRecord[] } | null } {
  const steps: Expiry[] = []
  let g = group
  let perStep = Math.ceil(expired / 2) // all of them did not fit
  // Each round removes a member or more, or halves perStep (which never grows): bounded.
  const roundsMax = 2 * group.members.size + 64
  for (let round = 0; round < roundsMax; round++) {
    const e = expire(g, nowMs, topics, perStep)
    if (e.removed.length === 0) return { steps, group: e.group, unfit: null }
    if (fits(e.records)) {
      steps.push(e)
      g = e.group
    } else if (e.removed.length === 1) {
      const left = expire(g, nowMs, topics, 0).group // every deadline kept: the members stay expired
      return { steps, group: left, unfit: { expired: expired - steps.reduce((n, s) => n + s.removed.length, 0), records: e.records } }
    } else {
      perStep = Math.ceil(e.removed.length / 2)
    }
  }
  throw new Error(`expiring group ${group.groupId} did not finish in ${roundsMax} rounds`)
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
