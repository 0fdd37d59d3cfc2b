// Elections (KIP-595 with KIP-996's pre-vote): the timers that start them, pre-votes and
// votes asked and granted, tallies, and the transitions to prospective, candidate and leader;
// BeginQuorumEpoch and EndQuorumEpoch, the notices that end them.
import { assert } from './assert.js'
import { awaitingLogCheck, mayVote } from './damage.js'
import { becomeFollower, lookForLeader, retryFetch } from './follower-fetch.js'
import type { RaftNode } from './node.js'
import { ProgressTracker } from './progress.js'
import { VoteTally } from './quorum.js'
import type { Candidate, Follower, Prospective, Unattached } from './roles.js'
import type { EndQuorumEpoch, NodeId, VoteRequest, VoteResponse } from './types.js'
import { mayCampaign } from './voter-changes.js'

export function tickFollower(n: RaftNode, s: Follower): void {
  if (n.nowTicks >= s.fetchDeadlineTick) {
    // The leader is silent: voters campaign, observers look for it again.
    if (mayCampaign(n)) return becomeProspective(n)
    n.becomeUnattached(n.epoch)
    return
  }
  retryFetch(n, s)
}

/**
 * The transport says the link to `node` closed (a killed process closes its sockets at once). A
 * follower of `node` stops counting its leader as alive — it grants pre-votes now — and
 * pre-votes itself after a short random delay instead of the fetch timeout. Harmless if the
 * leader lives on (a link that merely flapped): voters still hearing from it refuse the pre-vote
 * and name it, and an answer from it in the meantime puts the deadline back.
 */
export function leaderUnreachable(n: RaftNode, node: NodeId): void {
  const s = n.state
  if (s.role !== 'follower' || s.leaderId !== node) return
  n.lastLeaderContactTick = Number.NEGATIVE_INFINITY
  n.linkClosedLeader = node
  campaignSoon(n, s)
}

/** A follower whose leader is likely gone campaigns after the short link-drop delay, not a fetch timeout. */
function campaignSoon(n: RaftNode, s: Follower): void {
  s.fetchDeadlineTick = Math.min(s.fetchDeadlineTick, n.nowTicks + linkDropDelay(n))
}

/** How soon a replica campaigns after hearing its leader's link closed, or after a split vote. */
function linkDropDelay(n: RaftNode): number {
  return 1 + n.cfg.random(n.cfg.leaderLinkDropTicks ?? n.cfg.electionTimeoutTicks)
}

export function tickElection(n: RaftNode, s: Unattached | Prospective | Candidate): void {
  if (!mayCampaign(n)) return lookForLeader(n, s)
  if (n.nowTicks >= s.electionDeadlineTick) becomeProspective(n)
}

/** KIP-996: ask whether we could win before disturbing anyone with a new epoch. */
export function becomeProspective(n: RaftNode): void {
  assert(mayCampaign(n), 'observer campaigning')
  if (awaitingLogCheck(n)) return // an unverified log is checked first (damage.ts)
  const tally = new VoteTally(n.voters)
  n.reset({ role: 'prospective', electionDeadlineTick: n.nowTicks + n.randomElectionTicks(), tally, fetch: null })
  // Not a voter's vote unless this replica is the voter (a removed one, or a wiped one under its id, is not).
  if (n.isVoter) tally.record(n.id, true)
  if (tally.won()) return becomeCandidate(n)
  requestVotes(n, true)
}

function becomeCandidate(n: RaftNode): void {
  const prospective = n.state
  assert(prospective.role === 'prospective', 'candidate without a pre-vote')
  n.enterEpoch(n.epoch + 1)
  n.votedFor = n.id
  const tally = new VoteTally(n.voters)
  n.reset({ role: 'candidate', electionDeadlineTick: n.nowTicks + n.randomElectionTicks(), tally, fetch: prospective.fetch })
  if (n.isVoter) tally.record(n.id, true)
  if (tally.won()) return becomeLeader(n)
  requestVotes(n, false)
}

function becomeLeader(n: RaftNode): void {
  assert(n.state.role === 'candidate' && n.votedFor === n.id, 'leader without winning')
  n.reset({
    role: 'leader',
    progress: new ProgressTracker(n.id, [...n.voters], n.voterDirectories, n.isVoter, n.nowTicks, n.bugs.ignoreDirectoryIds === true),
    parked: new Map(), answered: new Map(), lastBeginQuorumTick: n.nowTicks, leaderChangeOffset: null, transfer: null,
  })
  n.pushPendingAppend('leaderChange')
  n.directive({ kind: 'appendLeaderChange', epoch: n.epoch, voters: [...n.voters] })
  for (const v of n.voters) {
    if (v !== n.id) sendBeginQuorumEpoch(n, v)
  }
}

/** "I lead this epoch", addressed to the voter (id, recorded directory id): another replica of that id ignores it. */
export function sendBeginQuorumEpoch(n: RaftNode, to: NodeId): void {
  n.send({ type: 'beginQuorumEpoch', from: n.id, to, epoch: n.epoch, voterDirectoryId: n.voterDirectories[to] })
}

function requestVotes(n: RaftNode, preVote: boolean): void {
  const epoch = preVote ? n.epoch + 1 : n.epoch
  for (const v of n.voters) {
    if (v === n.id) continue
    n.send({
      type: 'vote', from: n.id, to: v, epoch, preVote, lastEpoch: n.epochs.latestEpoch(), logEnd: n.logEnd,
      candidateDirectoryId: n.directoryId, voterDirectoryId: n.voterDirectories[v],
    })
  }
}

/** Raft's election restriction: the candidate's log is at least as up to date as ours. */
function logUpToDate(n: RaftNode, m: VoteRequest): boolean {
  const lastEpoch = n.epochs.latestEpoch()
  return m.lastEpoch > lastEpoch || (m.lastEpoch === lastEpoch && m.logEnd >= n.logEnd)
}

export function handlePreVote(n: RaftNode, m: VoteRequest): void {
  const role = n.state.role
  const leaderAlive =
    role === 'leader' || (role === 'follower' && n.nowTicks - n.lastLeaderContactTick < n.cfg.fetchTimeoutTicks)
  const logOk = n.bugs.preVoteSkipsLogCheck === true || logUpToDate(n, m)
  // Like votes, pre-votes do not consult our voter set (see handleVote).
  const granted = m.epoch > n.epoch && logOk && !leaderAlive && mayVote(n)
  const epoch = granted ? m.epoch : n.epoch
  // A refusal names our leader only while we hear from it: one we no longer hear from (its link
  // closed, or it went silent) would send the asker to follow it for a whole fetch timeout.
  n.send({ type: 'voteResponse', from: n.id, to: m.from, epoch, preVote: true, granted, leaderId: leaderAlive ? n.leaderId : null })
}

/**
 * Votes are granted without consulting our voter set (Raft dissertation §4.1): sets in
 * force differ while a change spreads, and a candidate whose set needs us must be able to
 * win even if our log has not caught up with it. Only the candidate's own set counts votes.
 */
export function handleVote(n: RaftNode, m: VoteRequest): void {
  const s = n.state
  const free = n.votedFor === null || n.votedFor === m.from
  // No leader known and not campaigning for ourselves.
  const undecided = s.role === 'unattached' || s.role === 'prospective'
  const granted = free && undecided && logUpToDate(n, m) && mayVote(n)
  if (granted && n.votedFor === null) {
    n.votedFor = m.from
    if (n.bugs.forgetVotePersist === true) n.unpersistedVote = true
    n.quorumDirty = true
    // A prospective that votes for another gives up; an outstanding fetch carries over.
    n.reset({ role: 'unattached', electionDeadlineTick: n.nowTicks + n.randomElectionTicks(), fetch: s.fetch })
  }
  n.send({ type: 'voteResponse', from: n.id, to: m.from, epoch: n.epoch, preVote: false, granted, leaderId: n.leaderId })
}

export function handleVoteResponse(n: RaftNode, m: VoteResponse): void {
  const s = n.state
  if (m.preVote) {
    if (s.role !== 'prospective' || m.epoch !== (m.granted ? n.epoch + 1 : n.epoch)) return
    s.tally.record(m.from, m.granted)
    if (s.tally.won()) return becomeCandidate(n)
    // A rejection naming this epoch's leader: follow it instead of campaigning. The leader itself
    // refusing proves it alive; another voter naming the leader whose link just closed may not
    // have been told yet (its own link closes a few ms later): follow it, but campaign again as
    // soon as after the closed link, once.
    if (!m.granted && m.leaderId !== null && m.leaderId !== n.id) {
      const unconfirmed = m.leaderId === n.linkClosedLeader && m.from !== m.leaderId
      n.linkClosedLeader = null
      becomeFollower(n, n.epoch, m.leaderId)
      if (unconfirmed && n.state.role === 'follower') campaignSoon(n, n.state)
    }
    return
  }
  if (s.role !== 'candidate') return
  s.tally.record(m.from, m.granted)
  if (s.tally.won()) return becomeLeader(n)
  // Refused by a voter that names no leader of this epoch: it voted for another candidate (or its
  // log is ahead of ours). When the voters left are split and the rest are dead, this epoch is
  // never decided: campaign again soon, as after a closed link, not after a whole election timeout
  // (1.5-3 s of a failover). The retry pre-votes first, so it disturbs no leader elected meanwhile.
  if (!m.granted && m.leaderId === null) {
    s.electionDeadlineTick = Math.min(s.electionDeadlineTick, n.nowTicks + linkDropDelay(n))
  }
}

export function handleBeginQuorumEpoch(n: RaftNode, from: NodeId): void {
  const s = n.state
  assert(s.role !== 'leader', `two leaders (${n.id}, ${from}) in epoch ${n.epoch}`)
  if (s.role !== 'follower' || s.leaderId !== from) becomeFollower(n, n.epoch, from, true)
}

export function handleEndQuorumEpoch(n: RaftNode, m: EndQuorumEpoch): void {
  if (n.state.role === 'leader' || (n.leaderId !== null && n.leaderId !== m.from)) return
  const unattached = n.becomeUnattached(n.epoch)
  // The best-placed successor campaigns at once; the others wait a normal timeout.
  if (m.preferredSuccessors[0] === n.id) unattached.electionDeadlineTick = n.nowTicks + 1
}
