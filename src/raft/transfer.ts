// Leadership transfer: the leader holds proposals (and voter changes) until the target has
// fetched up to the log end, then resigns naming it first among the preferred successors, so
// it campaigns at once. A target that does not catch up in time, or leaves the voter set,
// drops the transfer and proposals resume.
import type { RaftNode } from './node.js'
import type { Leader } from './roles.js'
import type { NodeId, TransferResult } from './types.js'

export function startTransfer(n: RaftNode, target: NodeId): TransferResult {
  const s = n.state
  if (s.role !== 'leader') return { ok: false, reason: 'notLeader', leaderId: n.leaderId }
  if (target === n.id) return { ok: false, reason: 'self', leaderId: n.id }
  if (!n.voters.has(target)) return { ok: false, reason: 'notVoter', leaderId: n.id }
  if (s.transfer !== null) return { ok: false, reason: 'inProgress', leaderId: n.id }
  const timeout = n.cfg.transferTimeoutTicks ?? 2 * n.cfg.electionTimeoutTicks
  s.transfer = { target, deadlineTick: n.nowTicks + timeout }
  completeTransferIfCaughtUp(n)
  return { ok: true }
}

/** Hands over once the target has everything (and nothing the leader asked for is still being appended). */
export function completeTransferIfCaughtUp(n: RaftNode): void {
  const s = n.state
  if (s.role !== 'leader' || s.transfer === null || n.pendingAppends.length > 0) return
  const target = s.transfer.target
  if ((s.progress.fetchOffsetOf(target) ?? -1) >= n.logEnd) n.resignLeadership(s, target)
}

/** The leader's tick: a target that did not catch up in time is given up on. */
export function expireTransfer(n: RaftNode, s: Leader): void {
  if (s.transfer !== null && n.nowTicks >= s.transfer.deadlineTick) s.transfer = null // back to normal
}

/** The voter set in force changed: a target that is no longer a voter cannot take over. */
export function dropTransferToNonVoter(n: RaftNode, s: Leader): void {
  if (s.transfer !== null && !n.voters.has(s.transfer.target)) s.transfer = null
}
