// The replicated-log core: KRaft-shaped Raft (KIP-595 + pre-vote KIP-996, snapshots KIP-630,
// voter changes KIP-853) as a pure state machine. Inputs: tick, receive, propose, appended,
// flushed, snapshotTaken, advanceLogStart (and campaign, resign, setFenced, transferLeadership,
// addVoter, removeVoter, leaderUnreachable). Outputs: ready() / advance(). No I/O, no clock, no randomness of its own, no
// record bytes. RaftCore is the public face: it checks each input and hands it to the module
// whose job it is (README.md has the table); the state they share is node.ts's.
import { assert } from './assert.js'
import { becomeProspective, leaderUnreachable, tickElection, tickFollower } from './elections.js'
import { checkRepaired, logDamaged, logVerified } from './damage.js'
import { setFenced } from './fence.js'
import { becomeFollower, reportFlushed, sendFetch } from './follower-fetch.js'
import { advanceLeaderHw, completeParked, epochCommitted, tickLeader } from './leader-fetch.js'
import { READY_DIRECTIVES_MAX, READY_MESSAGES_MAX, UNCOMMITTED_OFFSETS_MAX } from './limits.js'
import { RaftNode } from './node.js'
import { step } from './step.js'
import { completeTransferIfCaughtUp, startTransfer } from './transfer.js'
import type {
  AppendedRange,
  EpochStart,
  Leadership,
  LogView,
  Message,
  NodeId,
  ProposeResult,
  QuorumState,
  RaftConfig,
  Ready,
  SnapshotInfo,
  Status,
  TransferResult,
  VoterChangeResult,
  VoterSetAt,
} from './types.js'
import { addVoter, mayCampaign, removeVoter, votersChanged } from './voter-changes.js'

export class RaftCore {
  private readonly node: RaftNode
  private inReady = false

  constructor(cfg: RaftConfig, persisted: QuorumState | null, log: LogView) {
    this.node = new RaftNode(cfg, persisted, log)
    const n = this.node
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
      n.history.record(v.offset, v.voters, v.directoryIds)
    }
    n.logEnd = logEnd
    checkRepaired(n, false)
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
    checkRepaired(n, false)
    if (n.state.role === 'leader') advanceLeaderHw(n)
    // Tell the leader at once: its HW waits on our flush, not on our next data.
    const s = n.state
    if (s.role === 'follower' && s.fetch !== null && n.pendingAppends.length === 0) reportFlushed(n)
  }

  /** Start a pre-vote now (tests, operator-triggered elections). */
  campaign(): void {
    this.assertNotInReady()
    if (mayCampaign(this.node) && this.node.state.role !== 'leader') becomeProspective(this.node)
  }

  /**
   * The link to `node` closed (the broker's transport says so). If it is this node's leader,
   * pre-vote after a short random delay (`leaderLinkDropTicks`) rather than the fetch timeout,
   * and grant others' pre-votes meanwhile; any other node: nothing. A leader that lives on still
   * wins: the voters that hear from it refuse the pre-vote (KIP-996).
   */
  leaderUnreachable(node: NodeId): void {
    this.assertNotInReady()
    leaderUnreachable(this.node, node)
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
   * Fence (a broker whose lease expired) or unfence this node. While fenced it leads nothing and
   * starts no pre-vote or election — timers, `campaign()`, EndQuorumEpoch or a transfer naming
   * it — and a leader resigns at once (EndQuorumEpoch); it still votes, fetches and follows.
   * Unfencing restores the normal timers. Data partitions only, never the metadata log.
   */
  setFenced(fenced: boolean): void {
    this.assertNotInReady()
    setFenced(this.node, fenced)
  }

  /**
   * The shell found a bad batch at `offset` (a CRC that fails, on a read, a scrub or a check):
   * truncate there (a `truncate` directive, below the HW if need be: a majority holds those
   * records) and neither vote nor campaign until the log end is back where it was or the node
   * caught up with a leader; a leader resigns first (damage.ts). Data partitions with other
   * voters only: a lone voter's damage cannot be re-replicated.
   */
  logDamaged(offset: number): void {
    this.assertNotInReady()
    logDamaged(this.node, offset)
  }

  /** The shell CRC-checked the whole log (a `verifyLog` directive, or a background scrub): all good. */
  logVerified(): void {
    this.assertNotInReady()
    logVerified(this.node, becomeProspective)
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

  /**
   * Leader: add `id` (an observer that has caught up) to the voter set, with the directory id
   * its fetches carried (KIP-853: a node whose disk was wiped joins as the new replica it is).
   */
  addVoter(id: NodeId): VoterChangeResult {
    this.assertNotInReady()
    return addVoter(this.node, id)
  }

  /** Leader: remove the voter `id` (whatever its directory id); a removed leader resigns once the change commits. */
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

  /**
   * True when the next Ready asks the shell for no I/O (no quorum state to persist, no directive):
   * only messages to send and changes to report, which a shell may carry out synchronously.
   */
  readyNeedsNoIo(): boolean {
    const n = this.node
    return !n.quorumDirty && n.directives.length === 0
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
      directoryId: n.directoryId,
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
      voterDirectoryIds: n.voterDirectories,
      snapshot: n.snapshot,
      transferTarget: s.role === 'leader' ? (s.transfer?.target ?? null) : null,
      fenced: n.fenced,
      damagedUntil: n.damagedUntil,
      logUnverified: n.logUnverified,
      progress: s.role === 'leader' ? s.progress.replicaProgress(n.nowTicks) : null,
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
