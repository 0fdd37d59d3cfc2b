// One node's state as the modules of the core share it (RaftCore is its only public face):
// the quorum state, the voter set in force, the log as positions, the clock, the role's own
// state and the outbox. A role's state is replaced whole, and only by `reset` (etcd's
// `reset(term)`); the transitions here are those that need nothing but this state.
import { assert } from './assert.js'
import { EpochCache } from '../storage/epoch-cache.js'
import { PENDING_APPENDS_MAX } from './limits.js'
import { leaderOf, type Leader, type RoleState, type Unattached } from './roles.js'
import type {
  BugSwitches, DirectoryId, Directive, LogView, Message, NodeId, QuorumState, RaftConfig, SnapshotInfo, VoterDirectories,
} from './types.js'
import { isVoterKey, VoterHistory } from './voter-set.js'

/** Appends the core asked for and waits to hear of, in order (any other append is a client batch). */
export type PendingAppend = 'fetched' | 'leaderChange' | 'voters'

const NO_BUGS: BugSwitches = {}

export class RaftNode {
  readonly cfg: RaftConfig
  readonly bugs: BugSwitches
  readonly id: NodeId
  /** This replica's directory id (undefined: unknown); with `id`, its KIP-853 replica key. */
  readonly directoryId: DirectoryId | undefined
  /** The voter set along the log; the one in force is mirrored in `voters`, `voterDirectories` and `isVoter`. */
  readonly history: VoterHistory
  voters: ReadonlySet<NodeId>
  voterDirectories: VoterDirectories
  /** This replica is a member of the set in force: its id is, with a matching directory id. */
  isVoter: boolean

  // Quorum state (persisted; the leader is the role's).
  epoch: number
  votedFor: NodeId | null
  /** Bug switch bookkeeping: a granted vote this epoch that was never persisted. */
  unpersistedVote = false
  /**
   * Fenced (fence.ts): leads nothing and starts no campaign until unfenced; still votes, fetches
   * and follows. The broker's state, not persisted: a shell re-applies it to every core it builds.
   */
  fenced = false
  /**
   * Damaged (damage.ts): the log was truncated below what it held, at a bad batch; it neither
   * votes nor campaigns until its log end reaches this offset again (or it caught up with a
   * leader). Null: not damaged.
   */
  damagedUntil: number | null = null
  /** Closed segments were opened without a CRC scan: the shell checks them before a campaign. */
  logUnverified = false
  /** A `verifyLog` directive is out and not yet answered. */
  logCheckRequested = false
  /** What the role holds of its own; replaced whole, by `reset` only. */
  state: RoleState = { role: 'unattached', electionDeadlineTick: 0, fetch: null }

  // The log as positions only.
  logStart: number
  logEnd: number
  flushedEnd: number
  readonly epochs: EpochCache
  /** The latest snapshot of a state-machine log (the log starts at its end), or null. */
  snapshot: SnapshotInfo | null
  highWatermark = 0
  readonly pendingAppends: PendingAppend[] = []
  /** The leader's HW that arrived with records still being appended. */
  pendingLeaderHw = 0

  // Time.
  nowTicks = 0
  /**
   * When a leader last spoke to us (not a hint): pre-votes are refused for a fetch timeout
   * after it. Kept across roles: following a leader again on a hint does not reset it.
   */
  lastLeaderContactTick = Number.NEGATIVE_INFINITY
  /**
   * The leader whose link the transport said closed (leaderUnreachable), until we hear from it or
   * a pre-vote refusal naming it has been taken once: a voter not told yet may still name it.
   */
  linkClosedLeader: NodeId | null = null

  // Fetching (ids and the observer's contact cursor run on across roles).
  nextFetchId = 1
  bootstrapCursor = 0

  // Output, collected until the next ready().
  messages: Message[] = []
  directives: Directive[] = []
  quorumDirty = false
  hwDirty = false
  leadershipDirty = false
  votersDirty = false

  constructor(cfg: RaftConfig, persisted: QuorumState | null, log: LogView) {
    assert(cfg.electionTimeoutTicks >= 1 && cfg.fetchTimeoutTicks >= 1, 'timeouts must be positive')
    assert(cfg.fetchRetryTicks > cfg.fetchMaxWaitTicks, 'a parked fetch must answer before the retry')
    assert(log.logStart <= log.flushedEnd && log.flushedEnd <= log.logEnd, 'bad log view')
    const snapshot = log.snapshot ?? null
    assert(snapshot === null || snapshot.endOffset === log.logStart, 'a state-machine log starts at its snapshot')
    this.cfg = cfg
    this.bugs = cfg.bugs ?? NO_BUGS
    this.id = cfg.id
    this.directoryId = cfg.directoryId
    this.history = new VoterHistory(cfg.voters, log.voterSets ?? [], log.logStart)
    // A voter record beyond the log end was lost with an unflushed tail.
    this.history.truncateFrom(log.logEnd)
    this.voters = new Set(this.history.current())
    this.voterDirectories = this.history.currentDirectories()
    this.isVoter = this.isVoterKey(cfg.id, this.directoryId)
    this.epoch = persisted?.epoch ?? 0
    this.votedFor = persisted?.votedFor ?? null
    this.logStart = log.logStart
    this.logEnd = log.logEnd
    this.flushedEnd = log.flushedEnd
    this.snapshot = snapshot
    this.epochs = new EpochCache(log.epochs, log.logStartEpoch ?? snapshot?.epoch ?? 0)
    this.logUnverified = log.unverified ?? false
    this.damagedUntil = log.damagedUntil ?? null
    if (this.damagedUntil !== null && this.flushedEnd >= this.damagedUntil) this.damagedUntil = null
    assert(this.epochs.latestEpoch() <= this.epoch || persisted === null, 'log is ahead of quorum state')
    if (persisted === null) this.epoch = this.epochs.latestEpoch()
  }

  /** Is the replica (id, directoryId) a member of the set in force? (KIP-853; unknown matches.) */
  isVoterKey(id: NodeId, directoryId: DirectoryId | undefined): boolean {
    if (this.bugs.ignoreDirectoryIds === true) return this.voters.has(id)
    return isVoterKey(this.voters, this.voterDirectories, id, directoryId)
  }

  /** The leader this node knows of (itself when leading), from its role. */
  get leaderId(): NodeId | null {
    return leaderOf(this.state, this.id)
  }

  // ---------------------------------------------------------------- roles

  /**
   * The one place a role's state is replaced (etcd's `reset`): everything the old role held
   * goes with it. Marks the leadership (and the persisted leader) changed if they did.
   */
  reset(next: RoleState): void {
    const leaderId = leaderOf(next, this.id)
    if (this.state.role !== next.role || this.leaderId !== leaderId) this.leadershipDirty = true
    if (this.leaderId !== leaderId) this.quorumDirty = true
    this.state = next
  }

  enterEpoch(epoch: number): void {
    assert(epoch > this.epoch, 'epoch must grow')
    this.epoch = epoch
    this.votedFor = null
    this.unpersistedVote = false
    this.quorumDirty = true
    this.leadershipDirty = true
  }

  becomeUnattached(epoch: number): Unattached {
    assert(epoch >= this.epoch, 'epoch regressed')
    if (epoch > this.epoch) this.enterEpoch(epoch)
    const next: Unattached = { role: 'unattached', electionDeadlineTick: this.nowTicks + this.randomElectionTicks(), fetch: null }
    this.reset(next)
    return next
  }

  /** Step down with EndQuorumEpoch, the voters that fetched furthest (or `first`) first. */
  resignLeadership(leader: Leader, first: NodeId | null = null): void {
    const successors = leader.progress.successors()
    if (first !== null) successors.sort((a, b) => Number(b === first) - Number(a === first))
    this.becomeUnattached(this.epoch)
    for (const v of this.voters) {
      if (v !== this.id) {
        this.send({ type: 'endQuorumEpoch', from: this.id, to: v, epoch: this.epoch, preferredSuccessors: successors })
      }
    }
  }

  // ---------------------------------------------------------------- log and high watermark

  raiseHighWatermark(hw: number): void {
    if (hw <= this.highWatermark) return // the HW never regresses on a running node
    assert(hw <= this.logEnd, 'HW beyond log end')
    this.highWatermark = hw
    this.hwDirty = true
  }

  moveLogStart(offset: number): void {
    this.epochs.advanceStart(offset)
    this.history.advanceStart(offset)
    this.logStart = offset
  }

  /**
   * An empty log at `logStart` (everything below it is committed, so the HW may be no higher).
   * The voter set in force may change: the caller tells voter-changes.
   */
  restartLog(logStart: number, logStartEpoch: number, voters: readonly NodeId[], directoryIds: VoterDirectories | undefined): void {
    assert(this.highWatermark <= logStart, `resetting below the HW (${logStart} < ${this.highWatermark})`)
    this.logStart = this.logEnd = this.flushedEnd = logStart
    this.epochs.reset(logStartEpoch)
    this.history.reset(logStart, voters, directoryIds)
  }

  pushPendingAppend(kind: PendingAppend): void {
    assert(this.pendingAppends.length < PENDING_APPENDS_MAX, 'too many pending appends')
    this.pendingAppends.push(kind)
  }

  // ---------------------------------------------------------------- timers

  /**
   * A follower campaigns a random while after the fetch timeout, but refuses pre-votes only
   * for the fetch timeout itself: so when a leader dies, the first follower to campaign
   * finds the others already willing, instead of everyone campaigning at once.
   */
  followerTimeoutTicks(): number {
    return this.cfg.fetchTimeoutTicks + this.cfg.random(this.cfg.electionTimeoutTicks)
  }

  randomElectionTicks(): number {
    const base = this.cfg.electionTimeoutTicks
    return base + this.cfg.random(base)
  }

  // ---------------------------------------------------------------- output

  send(m: Message): void {
    this.messages.push(m)
  }

  directive(d: Directive): void {
    this.directives.push(d)
  }

  quorumState(): QuorumState {
    const votedFor = this.unpersistedVote && this.votedFor !== this.id ? null : this.votedFor
    return { epoch: this.epoch, votedFor, leaderId: this.leaderId }
  }
}
