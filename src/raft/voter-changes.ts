// Voter changes (KIP-853, Raft dissertation §4.1): the leader's rules for adding and removing
// one voter at a time, who may campaign while a removal is uncommitted, and what follows when
// the voter set in force changes (a record appended, truncated away, or reset).
import { advanceLeaderHw, epochCommitted } from './leader-fetch.js'
import { VOTERS_MAX } from './limits.js'
import type { RaftNode } from './node.js'
import { majority } from './quorum.js'
import type { Leader } from './roles.js'
import { dropTransferToNonVoter } from './transfer.js'
import type { NodeId, VoterChangeRefusal, VoterChangeResult } from './types.js'

/** Leader: add `id` (an observer that has caught up) to the voter set. */
export function addVoter(n: RaftNode, id: NodeId): VoterChangeResult {
  if (n.voters.has(id)) return refuse(n, 'alreadyVoter')
  if (n.voters.size >= VOTERS_MAX) return refuse(n, 'tooManyVoters')
  const s = n.state
  const caughtUp =
    s.role === 'leader' && s.progress.recentlyHeard(id, n.nowTicks, n.cfg.fetchTimeoutTicks) &&
    (s.progress.fetchOffsetOf(id) ?? -1) >= n.highWatermark
  return changeVoters(n, [...n.voters, id], caughtUp ? null : 'notCaughtUp')
}

/** Leader: remove `id` from the voter set; a removed leader resigns once the change commits. */
export function removeVoter(n: RaftNode, id: NodeId): VoterChangeResult {
  if (!n.voters.has(id)) return refuse(n, 'notVoter')
  if (n.voters.size === 1) return refuse(n, 'lastVoter')
  return changeVoters(n, [...n.voters].filter((v) => v !== id), null)
}

function refuse(n: RaftNode, reason: VoterChangeRefusal): VoterChangeResult {
  return { ok: false, reason: n.state.role === 'leader' ? reason : 'notLeader', leaderId: n.leaderId }
}

/** Appends a voter record for `next` unless a rule of one-change-at-a-time refuses it. */
function changeVoters(n: RaftNode, next: readonly NodeId[], refusal: VoterChangeRefusal | null): VoterChangeResult {
  const s = n.state
  if (s.role !== 'leader') return refuse(n, 'notLeader')
  // Raft's single-server changes are safe only once the leader committed its own epoch (a
  // change left uncommitted by an earlier leader may otherwise still win against ours)...
  const epochReady = epochCommitted(n) || n.bugs.changeVotersBeforeEpochCommit === true
  if (!epochReady || n.pendingAppends.length > 0) return refuse(n, 'leaderNotReady')
  // ...and with at most one uncommitted change: two would let sets two voters apart decide.
  const uncommitted = n.history.latestOffset() >= n.highWatermark && n.bugs.changeVotersBeforeCommit !== true
  if (uncommitted || s.transfer !== null) return refuse(n, 'changeInProgress')
  if (refusal !== null) return refuse(n, refusal)
  if (!reachable(n, s, next)) return refuse(n, 'wouldLoseQuorum')
  n.pushPendingAppend('voters')
  const voters = [...next].sort((a, b) => a - b)
  n.directive({ kind: 'appendVoters', epoch: n.epoch, voters })
  return { ok: true, voters }
}

/** Would a majority of `voters` (this leader, if one, and those heard from lately) be there to commit? */
function reachable(n: RaftNode, s: Leader, voters: readonly NodeId[]): boolean {
  let alive = 0
  for (const v of voters) {
    if (v === n.id || s.progress.recentlyHeard(v, n.nowTicks, n.cfg.fetchTimeoutTicks)) alive++
  }
  return alive >= majority(voters.length)
}

/**
 * Voters campaign; so does a node that an uncommitted record (as far as it knows) has just
 * removed. Otherwise a removal that survives only in removed nodes' logs could leave no one
 * able to win: the remaining voters' logs are behind theirs. Such a candidate counts votes
 * of its new set only, never its own, and if it wins it leads until its removal commits.
 * A fenced node (fence.ts) campaigns for nothing: like an observer, it looks for the leader.
 */
export function mayCampaign(n: RaftNode): boolean {
  if (n.fenced && n.bugs.ignoreFence !== true) return false
  if (n.isVoter) return true
  return n.history.latestOffset() >= n.highWatermark && (n.history.previous()?.includes(n.id) ?? false)
}

/** The voter set in force may have changed (a record appended, truncated away, or reset). */
export function votersChanged(n: RaftNode): void {
  const next = n.history.current()
  if (next.length === n.voters.size && next.every((v) => n.voters.has(v))) return
  n.voters = new Set(next)
  n.isVoter = n.voters.has(n.id)
  n.votersDirty = true
  const s = n.state
  if (s.role === 'leader') {
    s.progress.setVoters(next, n.nowTicks)
    dropTransferToNonVoter(n, s)
    advanceLeaderHw(n)
  } else if (s.role === 'prospective' || s.role === 'candidate') {
    n.becomeUnattached(n.epoch) // the tally counted another voter set
  }
}
