// A damaged log (issue 18, "Disk faults on a minority"). The shell found a batch whose CRC
// fails and the core truncates to the last good batch before it. The records lost there were
// acknowledged (a majority still holds them); this replica no longer does, so its log now
// claims less than it once did. Until its log end has passed where the log ended before the
// truncation again (re-fetched from the leader), or it has caught up with a leader, it:
// - grants no vote and no pre-vote (its shorter log would let a candidate win that lacks
//   committed records: the one unsafe thing a lost tail can do in Raft);
// - starts no campaign and takes no leadership transfer (`mayCampaign` is false);
// - reports its real offsets in its fetches (the leader counts it for what it holds again).
// A leader that finds damage resigns first: a majority holds the bytes it cannot serve.
//
// An unverified log (closed segments opened after a clean shutdown without a CRC scan) may vote
// (it claims no more than it holds) but asks the shell to check it (directive `verifyLog`)
// before its first campaign; the shell answers with `logVerified` or `logDamaged`. A lone voter
// is never checked first: no one could repair it, and its reads never serve a bad batch anyway.
import { assert } from './assert.js'
import { sendFetch } from './follower-fetch.js'
import type { RaftNode } from './node.js'
import { mayCampaign, votersChanged } from './voter-changes.js'

/** Damage at `offset` (the first bad batch): truncate there and refuse votes until repaired. */
export function logDamaged(n: RaftNode, offset: number): void {
  assert(Number.isSafeInteger(offset) && offset >= n.logStart && offset < n.logEnd, `damage at ${offset} outside the log [${n.logStart}, ${n.logEnd})`)
  assert(n.pendingAppends.length === 0, 'damage reported while an append is pending')
  n.logCheckRequested = false
  const s = n.state
  if (s.role === 'leader') n.resignLeadership(s)
  else if (s.role === 'prospective' || s.role === 'candidate') n.becomeUnattached(n.epoch)
  n.damagedUntil = Math.max(n.damagedUntil ?? 0, n.logEnd)
  n.directive({ kind: 'truncate', offset })
  n.logEnd = offset
  n.flushedEnd = Math.min(n.flushedEnd, offset)
  // Below the HW on purpose: what was committed there is re-fetched, not lost (a majority has it).
  n.highWatermark = Math.min(n.highWatermark, offset)
  n.epochs.truncateFrom(offset)
  n.history.truncateFrom(offset)
  votersChanged(n)
  const after = n.state
  if (after.role === 'follower') {
    after.fetch = null // an answer to a fetch from the old end no longer fits
    sendFetch(n)
  }
}

/**
 * The shell checked the whole log and found every batch good. A campaign that waited for the
 * check goes ahead now (the shell answers within the same input, so nothing changed meanwhile).
 */
export function logVerified(n: RaftNode, campaign: (n: RaftNode) => void): void {
  const waiting = n.logCheckRequested
  n.logUnverified = false
  n.logCheckRequested = false
  if (waiting && mayCampaign(n) && n.state.role !== 'leader') campaign(n)
}

/** May this node grant a vote or pre-vote? Not while its log is damaged. */
export function mayVote(n: RaftNode): boolean {
  return n.damagedUntil === null || n.bugs.damagedReplicaVotes === true
}

/**
 * Before a campaign: true if the log must be checked first (the shell is asked once, by a
 * `verifyLog` directive); the campaign waits for the answer.
 */
export function awaitingLogCheck(n: RaftNode): boolean {
  const loneVoter = n.voters.size === 1 && n.isVoter
  if (!n.logUnverified || loneVoter) return false
  if (!n.logCheckRequested) {
    n.logCheckRequested = true
    n.directive({ kind: 'verifyLog' })
  }
  return true
}

/**
 * The log grew or was flushed, or a leader answered that there is nothing past our log end:
 * repaired once the log is durable up to where it ended before the damage, or up to everything
 * the leader has (`caughtUp`, which by leader completeness includes every committed record).
 * Durable, not just appended: a crash before the flush would bring back the short log, with its
 * vote and without the bar (the shell drops damaged.json once the core says repaired).
 */
export function checkRepaired(n: RaftNode, caughtUp: boolean): void {
  if (n.damagedUntil === null) return
  if (caughtUp) n.damagedUntil = Math.min(n.damagedUntil, n.logEnd)
  if (n.flushedEnd >= n.damagedUntil) n.damagedUntil = null
}
