// Voter changes (KIP-853, Raft dissertation §4.1): the leader's rules for adding and removing
// one voter at a time, who may campaign while a removal is uncommitted, and what follows when
// the voter set in force changes (a record appended, truncated away, or reset). A voter is a
// replica key (id, directory id): an added voter is recorded with the directory id its fetches
// carried, and a leader that has heard every voter's directory id records those the set lacks.
import { advanceLeaderHw, epochCommitted } from './leader-fetch.js'
import { VOTERS_MAX } from './limits.js'
import type { RaftNode } from './node.js'
import { majority } from './quorum.js'
import type { Leader } from './roles.js'
import { dropTransferToNonVoter } from './transfer.js'
import type { NodeId, VoterChangeRefusal, VoterChangeResult, VoterDirectories } from './types.js'
import { isVoterKey, knownDirectories, sameDirectories } from './voter-set.js'

/**
 * Leader: add `id` (an observer that has caught up) to the voter set, as the replica whose
 * fetches it heard: with the directory id they carried (a node whose disk was wiped is added
 * under its new one).
 */
export function addVoter(n: RaftNode, id: NodeId): VoterChangeResult {
  if (n.voters.has(id)) return refuse(n, 'alreadyVoter')
  if (n.voters.size >= VOTERS_MAX) return refuse(n, 'tooManyVoters')
  const s = n.state
  const caughtUp =
    s.role === 'leader' && s.progress.recentlyHeard(id, n.nowTicks, n.cfg.fetchTimeoutTicks) &&
    (s.progress.fetchOffsetOf(id) ?? -1) >= n.highWatermark
  const directoryId = s.role === 'leader' ? s.progress.directoryOf(id) : undefined
  const dirs = knownDirectories({ ...n.voterDirectories, [id]: directoryId })
  return changeVoters(n, [...n.voters, id], dirs, caughtUp ? null : 'notCaughtUp')
}

/** Leader: remove `id` (whatever its directory id) from the voter set; a removed leader resigns once the change commits. */
export function removeVoter(n: RaftNode, id: NodeId): VoterChangeResult {
  if (!n.voters.has(id)) return refuse(n, 'notVoter')
  if (n.voters.size === 1) return refuse(n, 'lastVoter')
  return changeVoters(n, [...n.voters].filter((v) => v !== id), knownDirectories({ ...n.voterDirectories, [id]: undefined }), null)
}

/**
 * Leader: once every voter's fetches carried a directory id and the set in force lacks some
 * (a bootstrap list names none), record them, as KIP-853's kraft.version upgrade does: from then
 * on a voter whose disk was wiped is no longer taken for the voter it was. Not for a lone
 * voter, which has no one to be protected from (and whose data partition's offsets it would
 * shift); quietly later when a change or transfer is under way.
 */
export function learnVoterDirectories(n: RaftNode): void {
  const s = n.state
  if (s.role !== 'leader' || n.voters.size < 2) return
  if (Object.keys(n.voterDirectories).length === n.voters.size) return // all known: the usual case, on every fetch
  const learned = s.progress.learnedDirectories()
  if (learned === null) return
  const own = n.voters.has(n.id) && n.voterDirectories[n.id] === undefined ? { [n.id]: n.directoryId } : {}
  const dirs = knownDirectories({ ...n.voterDirectories, ...learned, ...own })
  if (sameDirectories(dirs, n.voterDirectories)) return
  changeVoters(n, [...n.voters], dirs, null)
}

function refuse(n: RaftNode, reason: VoterChangeRefusal): VoterChangeResult {
  return { ok: false, reason: n.state.role === 'leader' ? reason : 'notLeader', leaderId: n.leaderId }
}

/** Appends a voter record for `next` unless a rule of one-change-at-a-time refuses it. */
function changeVoters(n: RaftNode, next: readonly NodeId[], directoryIds: VoterDirectories | undefined, refusal: VoterChangeRefusal | null): VoterChangeResult {
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
  n.directive({ kind: 'appendVoters', epoch: n.epoch, voters, directoryIds })
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
  if (n.damagedUntil !== null) return false // damage.ts: not until repaired
  if (n.isVoter) return true
  const previous = n.history.previous()
  if (previous === null || n.history.latestOffset() < n.highWatermark) return false
  return n.bugs.ignoreDirectoryIds === true ? previous.voters.includes(n.id)
    : isVoterKey(new Set(previous.voters), previous.directoryIds ?? {}, n.id, n.directoryId)
}

/** The voter set in force may have changed (a record appended, truncated away, or reset). */
export function votersChanged(n: RaftNode): void {
  const next = n.history.current()
  const dirs = n.history.currentDirectories()
  const sameIds = next.length === n.voters.size && next.every((v) => n.voters.has(v))
  if (sameIds && sameDirectories(dirs, n.voterDirectories)) return
  n.voters = new Set(next)
  n.voterDirectories = dirs
  const wasVoter = n.isVoter
  n.isVoter = n.isVoterKey(n.id, n.directoryId)
  n.votersDirty = true
  const s = n.state
  if (s.role === 'leader') {
    s.progress.setVoters(next, dirs, n.isVoter, n.nowTicks)
    dropTransferToNonVoter(n, s)
    advanceLeaderHw(n)
  } else if ((s.role === 'prospective' || s.role === 'candidate') && (!sameIds || wasVoter !== n.isVoter)) {
    n.becomeUnattached(n.epoch) // the tally counted another voter set
  }
}
