// The replicated-log core: KRaft-shaped Raft (KIP-595 + pre-vote KIP-996, snapshots KIP-630,
// voter changes KIP-853) as a pure state machine. Inputs: tick, receive, propose, appended,
// flushed, snapshotTaken, advanceLogStart (and campaign, resign, transferLeadership, addVoter,
// removeVoter). Outputs: ready() / advance(). No I/O, no clock, no randomness of its own, no
// record bytes.
import { assert } from './assert.js'
import { EpochCache } from '../storage/epoch-cache.js'
import {
  PARKED_FETCHES_MAX,
  FETCH_IDS_VALID_MAX,
  PENDING_APPENDS_MAX,
  READY_DIRECTIVES_MAX,
  READY_MESSAGES_MAX,
  UNCOMMITTED_OFFSETS_MAX,
  VOTERS_MAX,
} from './limits.js'
import { ProgressTracker } from './progress.js'
import { majority, VoteTally } from './quorum.js'
import type {
  AppendedRange,
  EpochStart,
  BugSwitches,
  Directive,
  EndQuorumEpoch,
  FetchRecords,
  FetchRequest,
  FetchResponse,
  FetchSnapshotRequest,
  FetchSnapshotResponse,
  Leadership,
  LogView,
  Message,
  NodeId,
  ProposeResult,
  QuorumState,
  RaftConfig,
  Ready,
  SnapshotChunk,
  SnapshotId,
  SnapshotInfo,
  Status,
  TransferResult,
  VoteRequest,
  VoteResponse,
  VoterChangeRefusal,
  VoterChangeResult,
  VoterSetAt,
} from './types.js'
import { VoterHistory } from './voter-set.js'
import { leaderOf, type Candidate, type Follower, type Leader, type Prospective, type RoleState, type SnapshotDownload, type Unattached } from './roles.js'

type PendingAppend = 'fetched' | 'leaderChange' | 'voters'

const NO_BUGS: BugSwitches = {}

export class RaftCore {
  private readonly cfg: RaftConfig
  private readonly bugs: BugSwitches
  private readonly id: NodeId
  /** The voter set along the log; the one in force is mirrored in `voters` / `isVoter`. */
  private readonly history: VoterHistory
  private voters: ReadonlySet<NodeId>
  private isVoter: boolean

  // Quorum state (persisted; the leader is the role's).
  private epoch: number
  private votedFor: NodeId | null
  /** What the role holds of its own; replaced whole, by `reset` only. */
  private state: RoleState = { role: 'unattached', electionDeadlineTick: 0, fetch: null }

  // The log as positions only.
  private logStart: number
  private logEnd: number
  private flushedEnd: number
  private readonly epochs: EpochCache
  /** The latest snapshot of a state-machine log (the log starts at its end), or null. */
  private snapshot: SnapshotInfo | null
  private highWatermark = 0
  private readonly pendingAppends: PendingAppend[] = []
  /** The leader's HW that arrived with records still being appended. */
  private pendingLeaderHw = 0

  // Time.
  private nowTicks = 0
  /**
   * When a leader last spoke to us (not a hint): pre-votes are refused for a fetch timeout
   * after it. Kept across roles: following a leader again on a hint does not reset it.
   */
  private lastLeaderContactTick = Number.NEGATIVE_INFINITY

  // Fetching (ids and the observer's contact cursor run on across roles).
  private nextFetchId = 1
  private bootstrapCursor = 0

  /** Bug switch bookkeeping: a granted vote this epoch that was never persisted. */
  private unpersistedVote = false

  // Output.
  private messages: Message[] = []
  private directives: Directive[] = []
  private quorumDirty = false
  private hwDirty = false
  private leadershipDirty = false
  private votersDirty = false
  private inReady = false

  constructor(cfg: RaftConfig, persisted: QuorumState | null, log: LogView) {
    assert(cfg.electionTimeoutTicks >= 1 && cfg.fetchTimeoutTicks >= 1, 'timeouts must be positive')
    assert(cfg.fetchRetryTicks > cfg.fetchMaxWaitTicks, 'a parked fetch must answer before the retry')
    assert(log.logStart <= log.flushedEnd && log.flushedEnd <= log.logEnd, 'bad log view')
    const snapshot = log.snapshot ?? null
    assert(snapshot === null || snapshot.endOffset === log.logStart, 'a state-machine log starts at its snapshot')
    this.cfg = cfg
    this.bugs = cfg.bugs ?? NO_BUGS
    this.id = cfg.id
    this.history = new VoterHistory(cfg.voters, log.voterSets ?? [], log.logStart)
    // A voter record beyond the log end was lost with an unflushed tail.
    this.history.truncateFrom(log.logEnd)
    this.voters = new Set(this.history.current())
    this.isVoter = this.voters.has(cfg.id)
    this.epoch = persisted?.epoch ?? 0
    this.votedFor = persisted?.votedFor ?? null
    this.logStart = log.logStart
    this.logEnd = log.logEnd
    this.flushedEnd = log.flushedEnd
    this.snapshot = snapshot
    this.epochs = new EpochCache(log.epochs, log.logStartEpoch ?? snapshot?.epoch ?? 0)
    assert(this.epochs.latestEpoch() <= this.epoch || persisted === null, 'log is ahead of quorum state')
    if (persisted === null) this.epoch = this.epochs.latestEpoch()
    const lastLeader = persisted?.leaderId ?? null
    // A restarted leader does not resume leading: it waits out an election timeout.
    if (lastLeader !== null && lastLeader !== this.id) this.becomeFollower(this.epoch, lastLeader)
    else this.becomeUnattached(this.epoch)
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.assertNotInReady()
    this.nowTicks++
    const s = this.state
    switch (s.role) {
      case 'leader':
        return this.tickLeader(s)
      case 'follower':
        return this.tickFollower(s)
      default:
        return this.tickElection(s)
    }
  }

  receive(m: Message): void {
    this.assertNotInReady()
    if (m.to !== this.id || m.from === this.id) return
    if (m.epoch > this.epoch && !this.acceptHigherEpoch(m)) return
    if (m.epoch < this.epoch) return this.rejectStale(m)
    switch (m.type) {
      case 'vote':
        return m.preVote ? this.handlePreVote(m) : this.handleVote(m)
      case 'voteResponse':
        return this.handleVoteResponse(m)
      case 'beginQuorumEpoch':
        return this.handleBeginQuorumEpoch(m.from)
      case 'endQuorumEpoch':
        return this.handleEndQuorumEpoch(m)
      case 'fetch':
        return this.handleFetch(m)
      case 'fetchResponse':
        return this.handleFetchResponse(m)
      case 'fetchSnapshot':
        return this.handleFetchSnapshot(m)
      case 'fetchSnapshotResponse':
        return this.handleFetchSnapshotResponse(m)
    }
  }

  /** Leader: may the shell append one client batch stamped with the returned epoch? */
  propose(): ProposeResult {
    this.assertNotInReady()
    const s = this.state
    if (s.role !== 'leader') {
      return { ok: false, reason: 'notLeader', leaderId: this.leaderId, epoch: this.epoch }
    }
    if (s.transfer !== null) return { ok: false, reason: 'transferring', leaderId: this.id, epoch: this.epoch }
    // Client data goes after the LeaderChange batch, which opens the epoch in the cache.
    if (this.epochs.latestEpoch() !== this.epoch || this.pendingAppends.length > 0) {
      return { ok: false, reason: 'leaderNotReady', leaderId: this.id, epoch: this.epoch }
    }
    if (this.logEnd - this.highWatermark >= UNCOMMITTED_OFFSETS_MAX) {
      return { ok: false, reason: 'backpressure', leaderId: this.id, epoch: this.epoch }
    }
    return { ok: true, epoch: this.epoch }
  }

  /**
   * The shell appended: after a directive (in order), or a proposal on the leader. `range`
   * names the epochs and voter sets that begin inside the appended records.
   */
  appended(logEnd: number, range: AppendedRange = {}): void {
    this.assertNotInReady()
    assert(Number.isSafeInteger(logEnd) && logEnd >= this.logEnd, 'log end moved backwards')
    const kind = this.pendingAppends.shift() ?? 'client'
    if (kind === 'client') assert(this.state.role === 'leader', 'client append on a non-leader')
    for (const s of range.epochStarts ?? []) {
      assert(s.startOffset >= this.logEnd && s.startOffset < logEnd, 'epoch start outside append')
      assert(s.epoch <= this.epoch, 'appended an epoch from the future')
      this.epochs.assign(s.epoch, s.startOffset)
    }
    const s = this.state
    if (kind === 'leaderChange' && s.role === 'leader') {
      assert(this.epochs.latestEpoch() === this.epoch, 'a LeaderChange must open the leader epoch')
      s.leaderChangeOffset = this.logEnd
    }
    if (kind === 'client') {
      // The leader's own data is always stamped with its current epoch.
      assert(logEnd === this.logEnd || this.epochs.latestEpoch() === this.epoch, 'leader append without epoch')
    }
    const voterSets = range.voterSets ?? []
    assert(kind !== 'voters' || voterSets.length === 1, 'a voter record append must report its voter set')
    for (const v of voterSets) {
      assert(v.offset >= this.logEnd && v.offset < logEnd, 'voter record outside append')
      this.history.record(v.offset, v.voters)
    }
    this.logEnd = logEnd
    if (voterSets.length > 0) this.votersChanged()
    if (kind === 'fetched') this.raiseHighWatermark(Math.min(this.pendingLeaderHw, this.logEnd))
    // The role read afresh: a voter change may have ended a leadership or a campaign.
    const after = this.state
    if (after.role === 'follower' && this.pendingAppends.length === 0 && after.fetch === null) {
      this.sendFetch()
    }
    if (after.role === 'leader') {
      this.maybeAdvanceLeaderHw()
      const still = this.state // a removed leader may have resigned
      if (still.role === 'leader') {
        this.completeParked(still, false)
        this.maybeCompleteTransfer()
      }
    }
  }

  /** Everything below `offset` is durable. A flush begun before a truncation must be clamped by the shell. */
  flushed(offset: number): void {
    this.assertNotInReady()
    const next = Math.min(offset, this.logEnd)
    if (next <= this.flushedEnd) return
    this.flushedEnd = next
    if (this.state.role === 'leader') this.maybeAdvanceLeaderHw()
    // Tell the leader at once: its HW waits on our flush, not on our next data.
    const s = this.state
    if (s.role === 'follower' && s.fetch !== null && this.pendingAppends.length === 0) {
      this.sendFetch()
    }
  }

  /** Start a pre-vote now (tests, operator-triggered elections). */
  campaign(): void {
    this.assertNotInReady()
    if (this.mayCampaign() && this.state.role !== 'leader') this.becomeProspective()
  }

  /**
   * Leader: step down gracefully (a broker shutting down), asking voters to elect a successor
   * now (EndQuorumEpoch, the most caught-up voters first) instead of waiting out a timeout.
   */
  resign(): void {
    this.assertNotInReady()
    const s = this.state
    if (s.role === 'leader') this.resignLeadership(s)
  }

  /**
   * Leader: hand leadership to `target`. Proposals are refused (`transferring`) until the
   * target has fetched up to the log end; then the leader resigns naming it first among the
   * preferred successors, and it campaigns at once. If the target has not caught up within
   * `transferTimeoutTicks`, the transfer is dropped and proposals resume.
   */
  transferLeadership(target: NodeId): TransferResult {
    this.assertNotInReady()
    const s = this.state
    if (s.role !== 'leader') return { ok: false, reason: 'notLeader', leaderId: this.leaderId }
    if (target === this.id) return { ok: false, reason: 'self', leaderId: this.id }
    if (!this.voters.has(target)) return { ok: false, reason: 'notVoter', leaderId: this.id }
    if (s.transfer !== null) return { ok: false, reason: 'inProgress', leaderId: this.id }
    const timeout = this.cfg.transferTimeoutTicks ?? 2 * this.cfg.electionTimeoutTicks
    s.transfer = { target, deadlineTick: this.nowTicks + timeout }
    this.maybeCompleteTransfer()
    return { ok: true }
  }

  /** Leader: add `id` (an observer that has caught up) to the voter set. */
  addVoter(id: NodeId): VoterChangeResult {
    this.assertNotInReady()
    if (this.voters.has(id)) return this.refuseChange('alreadyVoter')
    if (this.voters.size >= VOTERS_MAX) return this.refuseChange('tooManyVoters')
    const s = this.state
    const caughtUp =
      s.role === 'leader' && s.progress.recentlyHeard(id, this.nowTicks, this.cfg.fetchTimeoutTicks) &&
      (s.progress.fetchOffsetOf(id) ?? -1) >= this.highWatermark
    return this.changeVoters([...this.voters, id], caughtUp ? null : 'notCaughtUp')
  }

  /** Leader: remove `id` from the voter set; a removed leader resigns once the change commits. */
  removeVoter(id: NodeId): VoterChangeResult {
    this.assertNotInReady()
    if (!this.voters.has(id)) return this.refuseChange('notVoter')
    if (this.voters.size === 1) return this.refuseChange('lastVoter')
    return this.changeVoters([...this.voters].filter((v) => v !== id), null)
  }

  /**
   * The application durably wrote a snapshot of a state-machine log's state below
   * `snapshot.endOffset` (<= the HW). The log now starts there: the shell may delete the
   * records below it, and followers behind it will download the snapshot instead.
   */
  snapshotTaken(snapshot: SnapshotInfo): void {
    this.assertNotInReady()
    assert(snapshot.endOffset > this.logStart && snapshot.endOffset <= this.highWatermark, `snapshot end ${snapshot.endOffset} outside (log start, HW]`)
    assert(Number.isSafeInteger(snapshot.sizeBytes) && snapshot.sizeBytes >= 1, 'empty snapshot')
    assert(snapshot.epoch === this.epochs.epochAt(snapshot.endOffset - 1), 'snapshot epoch differs from the log')
    this.snapshot = snapshot
    this.moveLogStart(snapshot.endOffset)
    this.flushedEnd = Math.max(this.flushedEnd, snapshot.endOffset)
  }

  /** A data partition's shell deleted the records below `offset` (retention, DeleteRecords). */
  advanceLogStart(offset: number): void {
    this.assertNotInReady()
    assert(this.snapshot === null, 'a state-machine log moves its start by snapshotTaken')
    if (offset <= this.logStart) return
    assert(offset <= this.highWatermark && offset <= this.flushedEnd, `log start ${offset} beyond the flushed HW`)
    this.moveLogStart(offset)
  }

  /** Epoch of the record at `offset` (for naming a snapshot ending after it). */
  epochAt(offset: number): number {
    assert(offset >= this.logStart - 1 && offset < this.logEnd, `offset ${offset} outside the log`)
    return this.epochs.epochAt(offset)
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    return (
      this.messages.length > 0 ||
      this.directives.length > 0 ||
      this.quorumDirty ||
      this.hwDirty ||
      this.leadershipDirty ||
      this.votersDirty
    )
  }

  ready(): Ready {
    this.assertNotInReady()
    assert(this.messages.length <= READY_MESSAGES_MAX, 'outbox overflow')
    assert(this.directives.length <= READY_DIRECTIVES_MAX, 'directive overflow')
    this.inReady = true
    const rd: Ready = {
      quorumState: this.quorumDirty ? this.quorumState() : null,
      directives: this.directives,
      messages: this.messages,
      highWatermark: this.hwDirty ? this.highWatermark : null,
      leadership: this.leadershipDirty
        ? { role: this.state.role, epoch: this.epoch, leaderId: this.leaderId }
        : null,
      voters: this.votersDirty ? [...this.voters] : null,
    }
    this.messages = []
    this.directives = []
    this.quorumDirty = this.hwDirty = this.leadershipDirty = this.votersDirty = false
    return rd
  }

  advance(): void {
    assert(this.inReady, 'advance() without ready()')
    this.inReady = false
  }

  status(): Status {
    const s = this.state
    return {
      id: this.id,
      voter: this.isVoter,
      role: s.role,
      epoch: this.epoch,
      votedFor: this.votedFor,
      leaderId: this.leaderId,
      highWatermark: this.highWatermark,
      logStart: this.logStart,
      logEnd: this.logEnd,
      flushedEnd: this.flushedEnd,
      lastEpoch: this.epochs.latestEpoch(),
      logStartEpoch: this.epochs.logStartEpoch,
      voters: [...this.voters],
      snapshot: this.snapshot,
      transferTarget: s.role === 'leader' ? (s.transfer?.target ?? null) : null,
    }
  }

  epochCache(): EpochStart[] {
    return this.epochs.snapshot()
  }

  voterHistory(): VoterSetAt[] {
    return this.history.snapshot()
  }

  leadership(): Leadership {
    return { role: this.state.role, epoch: this.epoch, leaderId: this.leaderId }
  }

  /** The leader this node knows of (itself when leading), from its role. */
  private get leaderId(): NodeId | null {
    return leaderOf(this.state, this.id)
  }

  // ---------------------------------------------------------------- ticks

  private tickLeader(s: Leader): void {
    for (const [id, p] of s.parked) {
      if (this.nowTicks - p.parkedAtTick >= this.cfg.fetchMaxWaitTicks) {
        s.parked.delete(id)
        this.respondRecords(p.request)
      }
    }
    if (!s.progress.heardFromMajority(this.nowTicks, this.cfg.fetchTimeoutTicks)) {
      return this.resignLeadership(s) // check-quorum: we may be the minority side of a partition
    }
    if (s.transfer !== null && this.nowTicks >= s.transfer.deadlineTick) s.transfer = null // back to normal
    if (this.nowTicks - s.lastBeginQuorumTick >= this.cfg.beginQuorumRetryTicks) {
      s.lastBeginQuorumTick = this.nowTicks
      for (const id of s.progress.votersNotFetched()) this.send({ type: 'beginQuorumEpoch', from: this.id, to: id, epoch: this.epoch })
    }
  }

  private tickFollower(s: Follower): void {
    if (this.nowTicks >= s.fetchDeadlineTick) {
      // The leader is silent: voters campaign, observers look for it again.
      if (this.mayCampaign()) return this.becomeProspective()
      this.becomeUnattached(this.epoch)
      return
    }
    if (s.download !== null) {
      if (this.nowTicks - s.download.sentAtTick >= this.cfg.fetchRetryTicks) this.sendSnapshotFetch(s, s.download)
      return
    }
    const f = s.fetch
    const stuck = f !== null && this.nowTicks - f.sentAtTick >= this.cfg.fetchRetryTicks
    if ((f === null || stuck) && this.pendingAppends.length === 0) this.sendFetch()
  }

  private tickElection(s: Unattached | Prospective | Candidate): void {
    if (!this.mayCampaign()) {
      // An observer finds the leader by asking voters in turn; any answer carries a hint.
      const f = s.fetch
      if (f === null || this.nowTicks - f.sentAtTick >= this.cfg.fetchRetryTicks) this.sendFetch()
      return
    }
    if (this.nowTicks >= s.electionDeadlineTick) this.becomeProspective()
  }

  // ---------------------------------------------------------------- transitions

  /**
   * The one place a role's state is replaced (etcd's `reset`): everything the old role held
   * goes with it. Marks the leadership (and the persisted leader) changed if they did.
   */
  private reset(next: RoleState): void {
    const leaderId = leaderOf(next, this.id)
    if (this.state.role !== next.role || this.leaderId !== leaderId) this.leadershipDirty = true
    if (this.leaderId !== leaderId) this.quorumDirty = true
    this.state = next
  }

  private becomeUnattached(epoch: number): Unattached {
    assert(epoch >= this.epoch, 'epoch regressed')
    if (epoch > this.epoch) this.enterEpoch(epoch)
    const next: Unattached = { role: 'unattached', electionDeadlineTick: this.nowTicks + this.randomElectionTicks(), fetch: null }
    this.reset(next)
    return next
  }

  /** `heardFromLeader`: the leader itself spoke (not a hint), which refuses pre-votes for a while. */
  private becomeFollower(epoch: number, leaderId: NodeId, heardFromLeader = false): void {
    assert(epoch >= this.epoch && leaderId !== this.id, 'bad follower transition')
    assert(this.state.role !== 'leader' || epoch > this.epoch, 'two leaders in one epoch')
    if (epoch > this.epoch) this.enterEpoch(epoch)
    this.reset({ role: 'follower', leaderId, fetchDeadlineTick: this.nowTicks + this.followerTimeoutTicks(), fetch: null, download: null })
    if (heardFromLeader) this.lastLeaderContactTick = this.nowTicks
    if (this.pendingAppends.length === 0) this.sendFetch()
  }

  /** KIP-996: ask whether we could win before disturbing anyone with a new epoch. */
  private becomeProspective(): void {
    assert(this.mayCampaign(), 'observer campaigning')
    const tally = new VoteTally(this.voters)
    this.reset({ role: 'prospective', electionDeadlineTick: this.nowTicks + this.randomElectionTicks(), tally, fetch: null })
    tally.record(this.id, true)
    if (tally.won()) return this.becomeCandidate()
    this.requestVotes(true)
  }

  private becomeCandidate(): void {
    const prospective = this.state
    assert(prospective.role === 'prospective', 'candidate without a pre-vote')
    this.enterEpoch(this.epoch + 1)
    this.votedFor = this.id
    const tally = new VoteTally(this.voters)
    this.reset({ role: 'candidate', electionDeadlineTick: this.nowTicks + this.randomElectionTicks(), tally, fetch: prospective.fetch })
    tally.record(this.id, true)
    if (tally.won()) return this.becomeLeader()
    this.requestVotes(false)
  }

  private becomeLeader(): void {
    assert(this.state.role === 'candidate' && this.votedFor === this.id, 'leader without winning')
    this.reset({
      role: 'leader', progress: new ProgressTracker(this.id, [...this.voters], this.nowTicks), parked: new Map(),
      lastBeginQuorumTick: this.nowTicks, leaderChangeOffset: null, transfer: null,
    })
    this.pushPendingAppend('leaderChange')
    this.directive({ kind: 'appendLeaderChange', epoch: this.epoch, voters: [...this.voters] })
    for (const v of this.voters) {
      if (v !== this.id) this.send({ type: 'beginQuorumEpoch', from: this.id, to: v, epoch: this.epoch })
    }
  }

  private resignLeadership(leader: Leader, first: NodeId | null = null): void {
    const successors = leader.progress.successors()
    if (first !== null) successors.sort((a, b) => Number(b === first) - Number(a === first))
    this.becomeUnattached(this.epoch)
    for (const v of this.voters) {
      if (v !== this.id) {
        this.send({ type: 'endQuorumEpoch', from: this.id, to: v, epoch: this.epoch, preferredSuccessors: successors })
      }
    }
  }

  private enterEpoch(epoch: number): void {
    assert(epoch > this.epoch, 'epoch must grow')
    this.epoch = epoch
    this.votedFor = null
    this.unpersistedVote = false
    this.quorumDirty = true
    this.leadershipDirty = true
  }

  // ---------------------------------------------------------------- epochs

  /** A message from a newer epoch: move there first (or just answer, for a pre-vote). */
  private acceptHigherEpoch(m: Message): boolean {
    switch (m.type) {
      case 'vote':
        if (m.preVote) {
          this.handlePreVote(m) // a pre-vote never changes the receiver's state
          return false
        }
        this.becomeUnattached(m.epoch)
        return true
      case 'voteResponse':
        if (m.preVote && m.granted) return true // granted pre-votes carry the proposed epoch
        this.adoptEpoch(m.epoch, m.leaderId)
        return false
      case 'beginQuorumEpoch':
        this.becomeFollower(m.epoch, m.from, true)
        return false
      case 'endQuorumEpoch':
        this.becomeUnattached(m.epoch)
        return true
      case 'fetch':
      case 'fetchSnapshot':
        this.becomeUnattached(m.epoch)
        return true
      case 'fetchResponse':
      case 'fetchSnapshotResponse':
        if (m.kind === 'notLeader') this.adoptEpoch(m.epoch, m.leaderId)
        else this.becomeFollower(m.epoch, m.from, true)
        return false
    }
  }

  private adoptEpoch(epoch: number, leaderId: NodeId | null): void {
    if (leaderId !== null && leaderId !== this.id) this.becomeFollower(epoch, leaderId)
    else this.becomeUnattached(epoch)
  }

  private rejectStale(m: Message): void {
    if (m.type === 'vote') {
      this.send({ type: 'voteResponse', from: this.id, to: m.from, epoch: this.epoch, preVote: m.preVote, granted: false, leaderId: this.leaderId })
    } else if (m.type === 'fetch') {
      this.send(notLeader(this.id, m, this.epoch, this.leaderId))
    } else if (m.type === 'fetchSnapshot') {
      this.send(snapshotResponseBase(this.id, m, this.epoch, { kind: 'notLeader', leaderId: this.leaderId }))
    }
    // Stale responses and leader notices are dropped: their epoch is over.
  }

  // ---------------------------------------------------------------- votes

  private requestVotes(preVote: boolean): void {
    const epoch = preVote ? this.epoch + 1 : this.epoch
    for (const v of this.voters) {
      if (v === this.id) continue
      this.send({ type: 'vote', from: this.id, to: v, epoch, preVote, lastEpoch: this.epochs.latestEpoch(), logEnd: this.logEnd })
    }
  }

  /** Raft's election restriction: the candidate's log is at least as up to date as ours. */
  private logUpToDate(m: VoteRequest): boolean {
    const lastEpoch = this.epochs.latestEpoch()
    return m.lastEpoch > lastEpoch || (m.lastEpoch === lastEpoch && m.logEnd >= this.logEnd)
  }

  private handlePreVote(m: VoteRequest): void {
    const role = this.state.role
    const leaderAlive =
      role === 'leader' || (role === 'follower' && this.nowTicks - this.lastLeaderContactTick < this.cfg.fetchTimeoutTicks)
    const logOk = this.bugs.preVoteSkipsLogCheck === true || this.logUpToDate(m)
    // Like votes, pre-votes do not consult our voter set (see handleVote).
    const granted = m.epoch > this.epoch && logOk && !leaderAlive
    const epoch = granted ? m.epoch : this.epoch
    this.send({ type: 'voteResponse', from: this.id, to: m.from, epoch, preVote: true, granted, leaderId: this.leaderId })
  }

  /**
   * Votes are granted without consulting our voter set (Raft dissertation §4.1): sets in
   * force differ while a change spreads, and a candidate whose set needs us must be able to
   * win even if our log has not caught up with it. Only the candidate's own set counts votes.
   */
  private handleVote(m: VoteRequest): void {
    const s = this.state
    const free = this.votedFor === null || this.votedFor === m.from
    // No leader known and not campaigning for ourselves.
    const undecided = s.role === 'unattached' || s.role === 'prospective'
    const granted = free && undecided && this.logUpToDate(m)
    if (granted && this.votedFor === null) {
      this.votedFor = m.from
      if (this.bugs.forgetVotePersist === true) this.unpersistedVote = true
      this.quorumDirty = true
      // A prospective that votes for another gives up; an outstanding fetch carries over.
      this.reset({ role: 'unattached', electionDeadlineTick: this.nowTicks + this.randomElectionTicks(), fetch: s.fetch })
    }
    this.send({ type: 'voteResponse', from: this.id, to: m.from, epoch: this.epoch, preVote: false, granted, leaderId: this.leaderId })
  }

  private handleVoteResponse(m: VoteResponse): void {
    const s = this.state
    if (m.preVote) {
      if (s.role !== 'prospective' || m.epoch !== (m.granted ? this.epoch + 1 : this.epoch)) return
      s.tally.record(m.from, m.granted)
      if (s.tally.won()) return this.becomeCandidate()
      // A rejection naming this epoch's leader: follow it instead of campaigning.
      if (!m.granted && m.leaderId !== null && m.leaderId !== this.id) this.becomeFollower(this.epoch, m.leaderId)
      return
    }
    if (s.role !== 'candidate') return
    s.tally.record(m.from, m.granted)
    if (s.tally.won()) this.becomeLeader()
  }

  private handleBeginQuorumEpoch(from: NodeId): void {
    const s = this.state
    assert(s.role !== 'leader', `two leaders (${this.id}, ${from}) in epoch ${this.epoch}`)
    if (s.role !== 'follower' || s.leaderId !== from) this.becomeFollower(this.epoch, from, true)
  }

  private handleEndQuorumEpoch(m: EndQuorumEpoch): void {
    if (this.state.role === 'leader' || (this.leaderId !== null && this.leaderId !== m.from)) return
    const unattached = this.becomeUnattached(this.epoch)
    // The best-placed successor campaigns at once; the others wait a normal timeout.
    if (m.preferredSuccessors[0] === this.id) unattached.electionDeadlineTick = this.nowTicks + 1
  }

  // ---------------------------------------------------------------- leader: fetch path

  private handleFetch(m: FetchRequest): void {
    const s = this.state
    if (s.role !== 'leader') return this.send(notLeader(this.id, m, this.epoch, this.leaderId))
    const end = this.epochs.endOffsetFor(m.lastFetchedEpoch, this.logEnd)
    // Behind our log start, or diverging somewhere below it: only a fresh start helps.
    if (m.fetchOffset < this.logStart || end === null) return this.startOver(s, m)
    if (end.epoch !== m.lastFetchedEpoch || end.endOffset < m.fetchOffset) {
      // Still contact for check-quorum: the follower is alive, just behind a divergence.
      s.progress.observe(m.from, 0, 0, this.nowTicks)
      return this.send({
        ...responseBase(this.id, m, this.epoch), kind: 'diverging', highWatermark: this.highWatermark,
        divergingEpoch: end.epoch, divergingEndOffset: Math.min(end.endOffset, m.fetchOffset),
      })
    }
    if (!s.progress.observe(m.from, m.fetchOffset, m.flushedOffset, this.nowTicks)) {
      return this.send(notLeader(this.id, m, this.epoch, null)) // observer slots are full
    }
    if (m.fetchOffset < this.logEnd) this.respondRecords(m)
    else {
      // Nothing to send: park until data arrives, the HW moves, or the wait runs out.
      s.parked.delete(m.from)
      assert(s.parked.size < PARKED_FETCHES_MAX, 'parked fetches overflow')
      s.parked.set(m.from, { request: m, parkedAtTick: this.nowTicks })
    }
    this.maybeAdvanceLeaderHw()
    const after = this.state // a removed leader may have resigned
    if (after.role === 'leader' && m.from === after.transfer?.target) this.maybeCompleteTransfer()
  }

  /** The follower must drop its log and start at ours: from the snapshot, or (data partitions) empty. */
  private startOver(s: Leader, m: FetchRequest): void {
    if (!s.progress.observe(m.from, 0, 0, this.nowTicks)) return this.send(notLeader(this.id, m, this.epoch, null))
    const base = { ...responseBase(this.id, m, this.epoch), highWatermark: this.highWatermark, voters: this.history.at(this.logStart - 1) }
    if (this.snapshot !== null) return this.send({ ...base, kind: 'snapshot', snapshot: this.snapshot })
    this.send({ ...base, kind: 'outOfRange', logStart: this.logStart, logStartEpoch: this.epochs.logStartEpoch })
  }

  private handleFetchSnapshot(m: FetchSnapshotRequest): void {
    const leader = this.state
    if (leader.role !== 'leader') {
      return this.send(snapshotResponseBase(this.id, m, this.epoch, { kind: 'notLeader', leaderId: this.leaderId }))
    }
    leader.progress.touch(m.from, this.nowTicks)
    const s = this.snapshot
    if (s === null || !sameSnapshot(s, m.snapshotId) || m.position < 0 || m.position >= s.sizeBytes) {
      return this.send(snapshotResponseBase(this.id, m, this.epoch, { kind: 'notFound' }))
    }
    const length = Math.max(1, Math.min(m.maxBytes, this.cfg.fetchMaxBytes, s.sizeBytes - m.position))
    const response: SnapshotChunk = snapshotResponseBase(this.id, m, this.epoch, { kind: 'chunk', sizeBytes: s.sizeBytes, length, chunk: null })
    this.directive({ kind: 'attachSnapshotChunk', response, snapshotId: m.snapshotId, position: m.position, length })
    this.send(response)
  }

  private respondRecords(m: FetchRequest): void {
    // Spelled out rather than spread: this is the hottest allocation of the fetch path.
    const response: FetchRecords = {
      type: 'fetchResponse', from: this.id, to: m.from, epoch: this.epoch, fetchId: m.fetchId, fetchOffset: m.fetchOffset,
      kind: 'records', highWatermark: this.highWatermark, records: null,
    }
    if (m.fetchOffset < this.logEnd) {
      this.directive({ kind: 'attachRecords', response, fromOffset: m.fetchOffset, maxBytes: Math.min(m.maxBytes, this.cfg.fetchMaxBytes) })
    }
    this.send(response)
  }

  /** Answers parked fetches: all of them (the HW moved) or those that now have data. */
  private completeParked(s: Leader, all: boolean): void {
    for (const [id, p] of s.parked) {
      if (all || p.request.fetchOffset < this.logEnd) {
        s.parked.delete(id)
        this.respondRecords(p.request)
      }
    }
  }

  /**
   * The HW is the offset a majority of voters has flushed, but only once that includes an
   * entry of the current epoch (our LeaderChange): earlier epochs commit only through it.
   */
  private maybeAdvanceLeaderHw(): void {
    const s = this.state
    if (s.role !== 'leader') return
    // Not the epoch cache's start of our epoch: a log-start move may clamp that to the log start.
    const epochStart = s.leaderChangeOffset
    const figure8 = this.bugs.commitByCountingReplicas === true
    if (epochStart === null && !figure8) return
    const candidate = s.progress.quorumOffset(this.flushedEnd, this.logEnd, this.bugs)
    if (!figure8 && epochStart !== null && candidate <= epochStart) return
    if (candidate > this.highWatermark) {
      this.raiseHighWatermark(candidate)
      this.completeParked(s, true)
    }
    // A leader that removed itself leads until the removal commits, then hands over.
    if (!this.isVoter && this.history.latestOffset() < this.highWatermark) this.resignLeadership(s)
  }

  /**
   * True once an entry of the leader's own epoch (its LeaderChange) is committed. Shells ask this
   * rather than compute it from the epoch cache, whose start of the epoch a log-start move clamps.
   */
  epochCommitted(): boolean {
    const s = this.state
    return s.role === 'leader' && s.leaderChangeOffset !== null && this.highWatermark > s.leaderChangeOffset
  }

  private refuseChange(reason: VoterChangeRefusal): VoterChangeResult {
    return { ok: false, reason: this.state.role === 'leader' ? reason : 'notLeader', leaderId: this.leaderId }
  }

  /** Appends a voter record for `next` unless a rule of one-change-at-a-time refuses it. */
  private changeVoters(next: readonly NodeId[], refusal: VoterChangeRefusal | null): VoterChangeResult {
    const s = this.state
    if (s.role !== 'leader') return this.refuseChange('notLeader')
    // Raft's single-server changes are safe only once the leader committed its own epoch (a
    // change left uncommitted by an earlier leader may otherwise still win against ours)...
    const epochReady = this.epochCommitted() || this.bugs.changeVotersBeforeEpochCommit === true
    if (!epochReady || this.pendingAppends.length > 0) return this.refuseChange('leaderNotReady')
    // ...and with at most one uncommitted change: two would let sets two voters apart decide.
    const uncommitted = this.history.latestOffset() >= this.highWatermark && this.bugs.changeVotersBeforeCommit !== true
    if (uncommitted || s.transfer !== null) return this.refuseChange('changeInProgress')
    if (refusal !== null) return this.refuseChange(refusal)
    if (!this.reachable(s, next)) return this.refuseChange('wouldLoseQuorum')
    this.pushPendingAppend('voters')
    const voters = [...next].sort((a, b) => a - b)
    this.directive({ kind: 'appendVoters', epoch: this.epoch, voters })
    return { ok: true, voters }
  }

  /**
   * Voters campaign; so does a node that an uncommitted record (as far as it knows) has just
   * removed. Otherwise a removal that survives only in removed nodes' logs could leave no one
   * able to win: the remaining voters' logs are behind theirs. Such a candidate counts votes
   * of its new set only, never its own, and if it wins it leads until its removal commits.
   */
  private mayCampaign(): boolean {
    if (this.isVoter) return true
    return this.history.latestOffset() >= this.highWatermark && (this.history.previous()?.includes(this.id) ?? false)
  }

  /** The voter set in force may have changed (a record appended, truncated away, or reset). */
  private votersChanged(): void {
    const next = this.history.current()
    if (next.length === this.voters.size && next.every((v) => this.voters.has(v))) return
    this.voters = new Set(next)
    this.isVoter = this.voters.has(this.id)
    this.votersDirty = true
    const s = this.state
    if (s.role === 'leader') {
      s.progress.setVoters(next, this.nowTicks)
      if (s.transfer !== null && !this.voters.has(s.transfer.target)) s.transfer = null
      this.maybeAdvanceLeaderHw()
    } else if (s.role === 'prospective' || s.role === 'candidate') {
      this.becomeUnattached(this.epoch) // the tally counted another voter set
    }
  }

  /** Would a majority of `voters` (this leader, if one, and those heard from lately) be there to commit? */
  private reachable(s: Leader, voters: readonly NodeId[]): boolean {
    let alive = 0
    for (const v of voters) {
      if (v === this.id || s.progress.recentlyHeard(v, this.nowTicks, this.cfg.fetchTimeoutTicks)) alive++
    }
    return alive >= majority(voters.length)
  }

  private maybeCompleteTransfer(): void {
    const s = this.state
    if (s.role !== 'leader' || s.transfer === null || this.pendingAppends.length > 0) return
    const target = s.transfer.target
    if ((s.progress.fetchOffsetOf(target) ?? -1) >= this.logEnd) this.resignLeadership(s, target)
  }

  private moveLogStart(offset: number): void {
    this.epochs.advanceStart(offset)
    this.history.advanceStart(offset)
    this.logStart = offset
  }

  private raiseHighWatermark(hw: number): void {
    if (hw <= this.highWatermark) return // the HW never regresses on a running node
    assert(hw <= this.logEnd, 'HW beyond log end')
    this.highWatermark = hw
    this.hwDirty = true
  }

  // ---------------------------------------------------------------- follower: fetch path

  private sendFetch(): void {
    const s = this.state
    assert(s.role !== 'leader', 'a leader does not fetch')
    if (s.role === 'follower' && s.download !== null) return this.sendSnapshotFetch(s, s.download)
    const to = this.fetchTarget(s)
    if (to === null) return
    const id = this.nextFetchId++
    const prior = s.fetch
    if (prior !== null && prior.fetchOffset === this.logEnd) {
      if (prior.ids.length >= FETCH_IDS_VALID_MAX) prior.ids.shift()
      prior.ids.push(id)
      prior.sentAtTick = this.nowTicks
    } else {
      s.fetch = { ids: [id], sentAtTick: this.nowTicks, fetchOffset: this.logEnd }
    }
    this.send({
      type: 'fetch', from: this.id, to, epoch: this.epoch, fetchId: id, fetchOffset: this.logEnd,
      lastFetchedEpoch: this.epochs.latestEpoch(), flushedOffset: this.flushedEnd, maxBytes: this.cfg.fetchMaxBytes,
    })
  }

  private fetchTarget(s: Follower | Unattached | Prospective | Candidate): NodeId | null {
    if (s.role === 'follower') return s.leaderId
    if (this.mayCampaign()) return null
    const contacts = (this.cfg.observerContacts ?? [...this.voters]).filter((id) => id !== this.id)
    return contacts.length === 0 ? null : contacts[this.bootstrapCursor++ % contacts.length]
  }

  private handleFetchResponse(m: FetchResponse): void {
    const s = this.state
    if (s.role !== 'follower') {
      // Only this epoch's leader answers with data: follow it.
      if (m.kind !== 'notLeader' && s.role !== 'leader') this.becomeFollower(this.epoch, m.from, true)
      else if (m.kind === 'notLeader' && m.leaderId !== null && m.leaderId !== this.id && s.role === 'unattached') {
        this.becomeFollower(this.epoch, m.leaderId)
      }
      return
    }
    const f = s.fetch
    // Ids restart with the process, so an answer to a pre-crash fetch may carry a current
    // id: it is only good if it asked for the offset we are asking for now.
    const current = f !== null && f.ids.includes(m.fetchId) && m.fetchOffset === f.fetchOffset && f.fetchOffset === this.logEnd
    if (!current || m.from !== s.leaderId) return // stale or duplicate
    s.fetch = null
    if (m.kind === 'notLeader') {
      if (m.leaderId === null) this.becomeUnattached(this.epoch) // our leader resigned
      return
    }
    this.lastLeaderContactTick = this.nowTicks
    s.fetchDeadlineTick = this.nowTicks + this.followerTimeoutTicks()
    assert(m.fetchOffset === this.logEnd, 'log changed under an outstanding fetch')
    switch (m.kind) {
      case 'records':
        if (m.records === null) {
          this.raiseHighWatermark(Math.min(m.highWatermark, this.logEnd))
          return this.sendFetch()
        }
        this.pendingLeaderHw = m.highWatermark
        this.pushPendingAppend('fetched')
        return this.directive({ kind: 'appendFetched', fromOffset: this.logEnd, records: m.records })
      case 'diverging':
        this.truncateDivergent(m.divergingEpoch, m.divergingEndOffset)
        return this.sendFetch()
      case 'outOfRange':
        this.directive({ kind: 'resetLog', logStart: m.logStart, logStartEpoch: m.logStartEpoch, voters: m.voters })
        this.resetTo(m.logStart, m.logStartEpoch, m.voters)
        this.raiseHighWatermark(Math.min(m.highWatermark, this.logEnd))
        return this.sendFetch()
      case 'snapshot':
        s.download = { snapshot: m.snapshot, voters: m.voters, position: 0, sentAtTick: this.nowTicks }
        return this.sendSnapshotFetch(s, s.download)
    }
  }

  /** An empty log at `logStart` (everything below it is committed, so the HW may be no higher). */
  private resetTo(logStart: number, logStartEpoch: number, voters: readonly NodeId[]): void {
    assert(this.highWatermark <= logStart, `resetting below the HW (${logStart} < ${this.highWatermark})`)
    this.logStart = this.logEnd = this.flushedEnd = logStart
    this.epochs.reset(logStartEpoch)
    this.history.reset(logStart, voters)
    this.votersChanged()
  }

  private sendSnapshotFetch(s: Follower, d: SnapshotDownload): void {
    d.sentAtTick = this.nowTicks
    const snapshotId = { endOffset: d.snapshot.endOffset, epoch: d.snapshot.epoch }
    this.send({ type: 'fetchSnapshot', from: this.id, to: s.leaderId, epoch: this.epoch, snapshotId, position: d.position, maxBytes: this.cfg.fetchMaxBytes })
  }

  private handleFetchSnapshotResponse(m: FetchSnapshotResponse): void {
    const s = this.state
    if (s.role !== 'follower') {
      if (m.kind !== 'notLeader' && s.role !== 'leader') this.becomeFollower(this.epoch, m.from, true)
      return
    }
    const d = s.download
    if (d === null || m.from !== s.leaderId || !sameSnapshot(d.snapshot, m.snapshotId) || m.position !== d.position) return // stale
    if (m.kind === 'notLeader') {
      s.download = null
      if (m.leaderId === null) this.becomeUnattached(this.epoch)
      return
    }
    this.lastLeaderContactTick = this.nowTicks
    s.fetchDeadlineTick = this.nowTicks + this.followerTimeoutTicks()
    if (m.kind === 'notFound') {
      s.download = null // the leader moved on to a newer snapshot: ask again
      return this.sendFetch()
    }
    if (m.chunk === null || !(m.length >= 1) || m.position + m.length > d.snapshot.sizeBytes || m.sizeBytes !== d.snapshot.sizeBytes) {
      s.download = null // a malformed chunk: start over rather than install something wrong
      return this.sendFetch()
    }
    this.directive({ kind: 'writeSnapshotChunk', snapshotId: m.snapshotId, position: m.position, chunk: m.chunk })
    d.position += m.length
    if (d.position < d.snapshot.sizeBytes) return this.sendSnapshotFetch(s, d)
    s.download = null
    this.directive({ kind: 'installSnapshot', snapshot: d.snapshot, voters: d.voters })
    this.resetTo(d.snapshot.endOffset, d.snapshot.epoch, d.voters)
    this.snapshot = d.snapshot
    this.raiseHighWatermark(d.snapshot.endOffset) // a snapshot holds committed state only
    this.sendFetch()
  }

  private truncateDivergent(divergingEpoch: number, divergingEndOffset: number): void {
    const ours = this.epochs.endOffsetFor(divergingEpoch, this.logEnd)?.endOffset ?? this.logStart
    const offset = Math.max(this.logStart, Math.min(divergingEndOffset, ours))
    assert(offset >= this.highWatermark, `truncating committed offsets (${offset} < HW ${this.highWatermark})`)
    if (offset >= this.logEnd) return
    this.directive({ kind: 'truncate', offset })
    this.logEnd = offset
    this.flushedEnd = Math.min(this.flushedEnd, offset)
    this.epochs.truncateFrom(offset)
    this.history.truncateFrom(offset)
    this.votersChanged()
  }

  // ---------------------------------------------------------------- helpers

  private quorumState(): QuorumState {
    const votedFor = this.unpersistedVote && this.votedFor !== this.id ? null : this.votedFor
    return { epoch: this.epoch, votedFor, leaderId: this.leaderId }
  }

  /**
   * A follower campaigns a random while after the fetch timeout, but refuses pre-votes only
   * for the fetch timeout itself: so when a leader dies, the first follower to campaign
   * finds the others already willing, instead of everyone campaigning at once.
   */
  private followerTimeoutTicks(): number {
    return this.cfg.fetchTimeoutTicks + this.cfg.random(this.cfg.electionTimeoutTicks)
  }

  private randomElectionTicks(): number {
    const base = this.cfg.electionTimeoutTicks
    return base + this.cfg.random(base)
  }

  private pushPendingAppend(kind: PendingAppend): void {
    assert(this.pendingAppends.length < PENDING_APPENDS_MAX, 'too many pending appends')
    this.pendingAppends.push(kind)
  }

  private send(m: Message): void {
    this.messages.push(m)
  }

  private directive(d: Directive): void {
    this.directives.push(d)
  }

  private assertNotInReady(): void {
    assert(!this.inReady, 'input between ready() and advance()')
  }
}

function responseBase(from: NodeId, m: FetchRequest, epoch: number) {
  return { type: 'fetchResponse' as const, from, to: m.from, epoch, fetchId: m.fetchId, fetchOffset: m.fetchOffset }
}

function notLeader(from: NodeId, m: FetchRequest, epoch: number, leaderId: NodeId | null): FetchResponse {
  return { type: 'fetchResponse', from, to: m.from, epoch, fetchId: m.fetchId, fetchOffset: m.fetchOffset, kind: 'notLeader', leaderId }
}

function snapshotResponseBase<T extends object>(from: NodeId, m: FetchSnapshotRequest, epoch: number, rest: T) {
  return { type: 'fetchSnapshotResponse' as const, from, to: m.from, epoch, snapshotId: m.snapshotId, position: m.position, ...rest }
}

function sameSnapshot(a: SnapshotId, b: SnapshotId): boolean {
  return a.endOffset === b.endOffset && a.epoch === b.epoch
}
