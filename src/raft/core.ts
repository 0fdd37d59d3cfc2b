// The replicated-log core: KRaft-shaped Raft (KIP-595 + pre-vote KIP-996, snapshots KIP-630,
// voter changes KIP-853) as a pure state machine. Inputs: tick, receive, propose, appended,
// flushed, snapshotTaken, advanceLogStart (and campaign, resign, transferLeadership, addVoter,
// removeVoter). Outputs: ready() / advance(). No I/O, no clock, no randomness of its own, no
// record bytes. RaftCore is the public face: it checks each input and hands it to the module
// whose job it is (README.md has the table); the state they share is node.ts's.
import { assert } from './assert.js'
import { becomeFollower, handleFetchResponse, handleFetchSnapshotResponse, lookForLeader, retryFetch, sendFetch } from './follower-fetch.js'
import { advanceLeaderHw, completeParked, epochCommitted, handleFetch, notLeader, tickLeader } from './leader-fetch.js'
import { READY_DIRECTIVES_MAX, READY_MESSAGES_MAX, UNCOMMITTED_OFFSETS_MAX } from './limits.js'
import { RaftNode } from './node.js'
import { ProgressTracker } from './progress.js'
import { VoteTally } from './quorum.js'
import type { Candidate, Follower, Prospective, Unattached } from './roles.js'
import { handleFetchSnapshot, snapshotResponseBase } from './snapshot-download.js'
import { completeTransferIfCaughtUp, startTransfer } from './transfer.js'
import type { AppendedRange, EndQuorumEpoch, EpochStart, Leadership, LogView, Message, NodeId, ProposeResult, QuorumState, RaftConfig, Ready, SnapshotInfo, Status, TransferResult, VoterChangeResult, VoteRequest, VoteResponse, VoterSetAt } from './types.js'
import { addVoter, mayCampaign, removeVoter, votersChanged } from './voter-changes.js'

export class RaftCore {
  private readonly node: RaftNode
  private inReady = false

  constructor(cfg: RaftConfig, persisted: QuorumState | null, log: LogView) {
    const n = (this.node = new RaftNode(cfg, persisted, log))
    const lastLeader = persisted?.leaderId ?? null
    // A restarted leader does not resume leading: it waits out an election timeout.
    if (lastLeader !== null && lastLeader !== n.id) becomeFollower(n, n.epoch, lastLeader)
    else n.becomeUnattached(n.epoch)
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.assertNotInReady()
    const n = this.node
    n.nowTicks++
    const s = n.state
    switch (s.role) {
      case 'leader':
        return tickLeader(n, s)
      case 'follower':
        return tickFollower(n, s)
      default:
        return tickElection(n, s)
    }
  }

  receive(m: Message): void {
    this.assertNotInReady()
    step(this.node, m)
  }

  /** Leader: may the shell append one client batch stamped with the returned epoch? */
  propose(): ProposeResult {
    this.assertNotInReady()
    const n = this.node
    const s = n.state
    if (s.role !== 'leader') {
      return { ok: false, reason: 'notLeader', leaderId: n.leaderId, epoch: n.epoch }
    }
    if (s.transfer !== null) return { ok: false, reason: 'transferring', leaderId: n.id, epoch: n.epoch }
    // Client data goes after the LeaderChange batch, which opens the epoch in the cache.
    if (n.epochs.latestEpoch() !== n.epoch || n.pendingAppends.length > 0) {
      return { ok: false, reason: 'leaderNotReady', leaderId: n.id, epoch: n.epoch }
    }
    if (n.logEnd - n.highWatermark >= UNCOMMITTED_OFFSETS_MAX) {
      return { ok: false, reason: 'backpressure', leaderId: n.id, epoch: n.epoch }
    }
    return { ok: true, epoch: n.epoch }
  }

  /**
   * The shell appended: after a directive (in order), or a proposal on the leader. `range`
   * names the epochs and voter sets that begin inside the appended records.
   */
  appended(logEnd: number, range: AppendedRange = {}): void {
    this.assertNotInReady()
    const n = this.node
    assert(Number.isSafeInteger(logEnd) && logEnd >= n.logEnd, 'log end moved backwards')
    const kind = n.pendingAppends.shift() ?? 'client'
    if (kind === 'client') assert(n.state.role === 'leader', 'client append on a non-leader')
    for (const e of range.epochStarts ?? []) {
      assert(e.startOffset >= n.logEnd && e.startOffset < logEnd, 'epoch start outside append')
      assert(e.epoch <= n.epoch, 'appended an epoch from the future')
      n.epochs.assign(e.epoch, e.startOffset)
    }
    const s = n.state
    if (kind === 'leaderChange' && s.role === 'leader') {
      assert(n.epochs.latestEpoch() === n.epoch, 'a LeaderChange must open the leader epoch')
      s.leaderChangeOffset = n.logEnd
    }
    if (kind === 'client') {
      // The leader's own data is always stamped with its current epoch.
      assert(logEnd === n.logEnd || n.epochs.latestEpoch() === n.epoch, 'leader append without epoch')
    }
    const voterSets = range.voterSets ?? []
    assert(kind !== 'voters' || voterSets.length === 1, 'a voter record append must report its voter set')
    for (const v of voterSets) {
      assert(v.offset >= n.logEnd && v.offset < logEnd, 'voter record outside append')
      n.history.record(v.offset, v.voters)
    }
    n.logEnd = logEnd
    if (voterSets.length > 0) votersChanged(n)
    if (kind === 'fetched') n.raiseHighWatermark(Math.min(n.pendingLeaderHw, n.logEnd))
    // The role read afresh: a voter change may have ended a leadership or a campaign.
    const after = n.state
    if (after.role === 'follower' && n.pendingAppends.length === 0 && after.fetch === null) sendFetch(n)
    if (after.role === 'leader') {
      advanceLeaderHw(n)
      const still = n.state // a removed leader may have resigned
      if (still.role === 'leader') {
        completeParked(n, still, false)
        completeTransferIfCaughtUp(n)
      }
    }
  }

  /** Everything below `offset` is durable. A flush begun before a truncation must be clamped by the shell. */
  flushed(offset: number): void {
    this.assertNotInReady()
    const n = this.node
    const next = Math.min(offset, n.logEnd)
    if (next <= n.flushedEnd) return
    n.flushedEnd = next
    if (n.state.role === 'leader') advanceLeaderHw(n)
    // Tell the leader at once: its HW waits on our flush, not on our next data.
    const s = n.state
    if (s.role === 'follower' && s.fetch !== null && n.pendingAppends.length === 0) sendFetch(n)
  }

  /** Start a pre-vote now (tests, operator-triggered elections). */
  campaign(): void {
    this.assertNotInReady()
    if (mayCampaign(this.node) && this.node.state.role !== 'leader') becomeProspective(this.node)
  }

  /**
   * Leader: step down gracefully (a broker shutting down), asking voters to elect a successor
   * now (EndQuorumEpoch, the most caught-up voters first) instead of waiting out a timeout.
   */
  resign(): void {
    this.assertNotInReady()
    const s = this.node.state
    if (s.role === 'leader') this.node.resignLeadership(s)
  }

  /**
   * Leader: hand leadership to `target`. Proposals are refused (`transferring`) until the
   * target has fetched up to the log end; then the leader resigns naming it first among the
   * preferred successors, and it campaigns at once. If the target has not caught up within
   * `transferTimeoutTicks`, the transfer is dropped and proposals resume.
   */
  transferLeadership(target: NodeId): TransferResult {
    this.assertNotInReady()
    return startTransfer(this.node, target)
  }

  /** Leader: add `id` (an observer that has caught up) to the voter set. */
  addVoter(id: NodeId): VoterChangeResult {
    this.assertNotInReady()
    return addVoter(this.node, id)
  }

  /** Leader: remove `id` from the voter set; a removed leader resigns once the change commits. */
  removeVoter(id: NodeId): VoterChangeResult {
    this.assertNotInReady()
    return removeVoter(this.node, id)
  }

  /**
   * The application durably wrote a snapshot of a state-machine log's state below
   * `snapshot.endOffset` (<= the HW). The log now starts there: the shell may delete the
   * records below it, and followers behind it will download the snapshot instead.
   */
  snapshotTaken(snapshot: SnapshotInfo): void {
    this.assertNotInReady()
    const n = this.node
    assert(snapshot.endOffset > n.logStart && snapshot.endOffset <= n.highWatermark, `snapshot end ${snapshot.endOffset} outside (log start, HW]`)
    assert(Number.isSafeInteger(snapshot.sizeBytes) && snapshot.sizeBytes >= 1, 'empty snapshot')
    assert(snapshot.epoch === n.epochs.epochAt(snapshot.endOffset - 1), 'snapshot epoch differs from the log')
    n.snapshot = snapshot
    n.moveLogStart(snapshot.endOffset)
    n.flushedEnd = Math.max(n.flushedEnd, snapshot.endOffset)
  }

  /** A data partition's shell deleted the records below `offset` (retention, DeleteRecords). */
  advanceLogStart(offset: number): void {
    this.assertNotInReady()
    const n = this.node
    assert(n.snapshot === null, 'a state-machine log moves its start by snapshotTaken')
    if (offset <= n.logStart) return
    assert(offset <= n.highWatermark && offset <= n.flushedEnd, `log start ${offset} beyond the flushed HW`)
    n.moveLogStart(offset)
  }

  /** Epoch of the record at `offset` (for naming a snapshot ending after it). */
  epochAt(offset: number): number {
    const n = this.node
    assert(offset >= n.logStart - 1 && offset < n.logEnd, `offset ${offset} outside the log`)
    return n.epochs.epochAt(offset)
  }

  /**
   * True once an entry of the leader's own epoch (its LeaderChange) is committed. Shells ask this
   * rather than compute it from the epoch cache, whose start of the epoch a log-start move clamps.
   */
  epochCommitted(): boolean {
    return epochCommitted(this.node)
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    const n = this.node
    return (
      n.messages.length > 0 ||
      n.directives.length > 0 ||
      n.quorumDirty ||
      n.hwDirty ||
      n.leadershipDirty ||
      n.votersDirty
    )
  }

  ready(): Ready {
    this.assertNotInReady()
    const n = this.node
    assert(n.messages.length <= READY_MESSAGES_MAX, 'outbox overflow')
    assert(n.directives.length <= READY_DIRECTIVES_MAX, 'directive overflow')
    this.inReady = true
    const rd: Ready = {
      quorumState: n.quorumDirty ? n.quorumState() : null,
      directives: n.directives,
      messages: n.messages,
      highWatermark: n.hwDirty ? n.highWatermark : null,
      leadership: n.leadershipDirty ? this.leadership() : null,
      voters: n.votersDirty ? [...n.voters] : null,
    }
    n.messages = []
    n.directives = []
    n.quorumDirty = n.hwDirty = n.leadershipDirty = n.votersDirty = false
    return rd
  }

  advance(): void {
    assert(this.inReady, 'advance() without ready()')
    this.inReady = false
  }

  status(): Status {
    const n = this.node
    const s = n.state
    return {
      id: n.id,
      voter: n.isVoter,
      role: s.role,
      epoch: n.epoch,
      votedFor: n.votedFor,
      leaderId: n.leaderId,
      highWatermark: n.highWatermark,
      logStart: n.logStart,
      logEnd: n.logEnd,
      flushedEnd: n.flushedEnd,
      lastEpoch: n.epochs.latestEpoch(),
      logStartEpoch: n.epochs.logStartEpoch,
      voters: [...n.voters],
      snapshot: n.snapshot,
      transferTarget: s.role === 'leader' ? (s.transfer?.target ?? null) : null,
    }
  }

  epochCache(): EpochStart[] {
    return this.node.epochs.snapshot()
  }

  voterHistory(): VoterSetAt[] {
    return this.node.history.snapshot()
  }

  leadership(): Leadership {
    const n = this.node
    return { role: n.state.role, epoch: n.epoch, leaderId: n.leaderId }
  }

  private assertNotInReady(): void {
    assert(!this.inReady, 'input between ready() and advance()')
  }
}

// -------------------------------------------------------------- step
// A message in: its epoch decides first (a newer one moves this node there, an older one is
// refused), then its type routes it to the module that handles it.
function step(n: RaftNode, m: Message): void {
  if (m.to !== n.id || m.from === n.id) return
  if (m.epoch > n.epoch && !acceptHigherEpoch(n, m)) return
  if (m.epoch < n.epoch) return rejectStale(n, m)
  switch (m.type) {
    case 'vote':
      return m.preVote ? handlePreVote(n, m) : handleVote(n, m)
    case 'voteResponse':
      return handleVoteResponse(n, m)
    case 'beginQuorumEpoch':
      return handleBeginQuorumEpoch(n, m.from)
    case 'endQuorumEpoch':
      return handleEndQuorumEpoch(n, m)
    case 'fetch':
      return handleFetch(n, m)
    case 'fetchResponse':
      return handleFetchResponse(n, m)
    case 'fetchSnapshot':
      return handleFetchSnapshot(n, m)
    case 'fetchSnapshotResponse':
      return handleFetchSnapshotResponse(n, m)
  }
}

/** A message from a newer epoch: move there first (or just answer, for a pre-vote). */
function acceptHigherEpoch(n: RaftNode, m: Message): boolean {
  switch (m.type) {
    case 'vote':
      if (m.preVote) {
        handlePreVote(n, m) // a pre-vote never changes the receiver's state
        return false
      }
      n.becomeUnattached(m.epoch)
      return true
    case 'voteResponse':
      if (m.preVote && m.granted) return true // granted pre-votes carry the proposed epoch
      adoptEpoch(n, m.epoch, m.leaderId)
      return false
    case 'beginQuorumEpoch':
      becomeFollower(n, m.epoch, m.from, true)
      return false
    case 'endQuorumEpoch':
      n.becomeUnattached(m.epoch)
      return true
    case 'fetch':
    case 'fetchSnapshot':
      n.becomeUnattached(m.epoch)
      return true
    case 'fetchResponse':
    case 'fetchSnapshotResponse':
      if (m.kind === 'notLeader') adoptEpoch(n, m.epoch, m.leaderId)
      else becomeFollower(n, m.epoch, m.from, true)
      return false
  }
}

function adoptEpoch(n: RaftNode, epoch: number, leaderId: NodeId | null): void {
  if (leaderId !== null && leaderId !== n.id) becomeFollower(n, epoch, leaderId)
  else n.becomeUnattached(epoch)
}

function rejectStale(n: RaftNode, m: Message): void {
  if (m.type === 'vote') {
    n.send({ type: 'voteResponse', from: n.id, to: m.from, epoch: n.epoch, preVote: m.preVote, granted: false, leaderId: n.leaderId })
  } else if (m.type === 'fetch') {
    n.send(notLeader(n.id, m, n.epoch, n.leaderId))
  } else if (m.type === 'fetchSnapshot') {
    n.send(snapshotResponseBase(n.id, m, n.epoch, { kind: 'notLeader', leaderId: n.leaderId }))
  }
  // Stale responses and leader notices are dropped: their epoch is over.
}

// -------------------------------------------------------------- elections
// Elections (KIP-595 with KIP-996's pre-vote): the timers that start them, pre-votes and
// votes asked and granted, tallies, and the transitions to prospective, candidate and leader;
// BeginQuorumEpoch and EndQuorumEpoch, the notices that end them.
function tickFollower(n: RaftNode, s: Follower): void {
  if (n.nowTicks >= s.fetchDeadlineTick) {
    // The leader is silent: voters campaign, observers look for it again.
    if (mayCampaign(n)) return becomeProspective(n)
    n.becomeUnattached(n.epoch)
    return
  }
  retryFetch(n, s)
}

function tickElection(n: RaftNode, s: Unattached | Prospective | Candidate): void {
  if (!mayCampaign(n)) return lookForLeader(n, s)
  if (n.nowTicks >= s.electionDeadlineTick) becomeProspective(n)
}

/** KIP-996: ask whether we could win before disturbing anyone with a new epoch. */
function becomeProspective(n: RaftNode): void {
  assert(mayCampaign(n), 'observer campaigning')
  const tally = new VoteTally(n.voters)
  n.reset({ role: 'prospective', electionDeadlineTick: n.nowTicks + n.randomElectionTicks(), tally, fetch: null })
  tally.record(n.id, true)
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
  tally.record(n.id, true)
  if (tally.won()) return becomeLeader(n)
  requestVotes(n, false)
}

function becomeLeader(n: RaftNode): void {
  assert(n.state.role === 'candidate' && n.votedFor === n.id, 'leader without winning')
  n.reset({
    role: 'leader', progress: new ProgressTracker(n.id, [...n.voters], n.nowTicks), parked: new Map(),
    lastBeginQuorumTick: n.nowTicks, leaderChangeOffset: null, transfer: null,
  })
  n.pushPendingAppend('leaderChange')
  n.directive({ kind: 'appendLeaderChange', epoch: n.epoch, voters: [...n.voters] })
  for (const v of n.voters) {
    if (v !== n.id) n.send({ type: 'beginQuorumEpoch', from: n.id, to: v, epoch: n.epoch })
  }
}

function requestVotes(n: RaftNode, preVote: boolean): void {
  const epoch = preVote ? n.epoch + 1 : n.epoch
  for (const v of n.voters) {
    if (v === n.id) continue
    n.send({ type: 'vote', from: n.id, to: v, epoch, preVote, lastEpoch: n.epochs.latestEpoch(), logEnd: n.logEnd })
  }
}

/** Raft's election restriction: the candidate's log is at least as up to date as ours. */
function logUpToDate(n: RaftNode, m: VoteRequest): boolean {
  const lastEpoch = n.epochs.latestEpoch()
  return m.lastEpoch > lastEpoch || (m.lastEpoch === lastEpoch && m.logEnd >= n.logEnd)
}

function handlePreVote(n: RaftNode, m: VoteRequest): void {
  const role = n.state.role
  const leaderAlive =
    role === 'leader' || (role === 'follower' && n.nowTicks - n.lastLeaderContactTick < n.cfg.fetchTimeoutTicks)
  const logOk = n.bugs.preVoteSkipsLogCheck === true || logUpToDate(n, m)
  // Like votes, pre-votes do not consult our voter set (see handleVote).
  const granted = m.epoch > n.epoch && logOk && !leaderAlive
  const epoch = granted ? m.epoch : n.epoch
  n.send({ type: 'voteResponse', from: n.id, to: m.from, epoch, preVote: true, granted, leaderId: n.leaderId })
}

/**
 * Votes are granted without consulting our voter set (Raft dissertation §4.1): sets in
 * force differ while a change spreads, and a candidate whose set needs us must be able to
 * win even if our log has not caught up with it. Only the candidate's own set counts votes.
 */
function handleVote(n: RaftNode, m: VoteRequest): void {
  const s = n.state
  const free = n.votedFor === null || n.votedFor === m.from
  // No leader known and not campaigning for ourselves.
  const undecided = s.role === 'unattached' || s.role === 'prospective'
  const granted = free && undecided && logUpToDate(n, m)
  if (granted && n.votedFor === null) {
    n.votedFor = m.from
    if (n.bugs.forgetVotePersist === true) n.unpersistedVote = true
    n.quorumDirty = true
    // A prospective that votes for another gives up; an outstanding fetch carries over.
    n.reset({ role: 'unattached', electionDeadlineTick: n.nowTicks + n.randomElectionTicks(), fetch: s.fetch })
  }
  n.send({ type: 'voteResponse', from: n.id, to: m.from, epoch: n.epoch, preVote: false, granted, leaderId: n.leaderId })
}

function handleVoteResponse(n: RaftNode, m: VoteResponse): void {
  const s = n.state
  if (m.preVote) {
    if (s.role !== 'prospective' || m.epoch !== (m.granted ? n.epoch + 1 : n.epoch)) return
    s.tally.record(m.from, m.granted)
    if (s.tally.won()) return becomeCandidate(n)
    // A rejection naming this epoch's leader: follow it instead of campaigning.
    if (!m.granted && m.leaderId !== null && m.leaderId !== n.id) becomeFollower(n, n.epoch, m.leaderId)
    return
  }
  if (s.role !== 'candidate') return
  s.tally.record(m.from, m.granted)
  if (s.tally.won()) becomeLeader(n)
}

function handleBeginQuorumEpoch(n: RaftNode, from: NodeId): void {
  const s = n.state
  assert(s.role !== 'leader', `two leaders (${n.id}, ${from}) in epoch ${n.epoch}`)
  if (s.role !== 'follower' || s.leaderId !== from) becomeFollower(n, n.epoch, from, true)
}

function handleEndQuorumEpoch(n: RaftNode, m: EndQuorumEpoch): void {
  if (n.state.role === 'leader' || (n.leaderId !== null && n.leaderId !== m.from)) return
  const unattached = n.becomeUnattached(n.epoch)
  // The best-placed successor campaigns at once; the others wait a normal timeout.
  if (m.preferredSuccessors[0] === n.id) unattached.electionDeadlineTick = n.nowTicks + 1
}
