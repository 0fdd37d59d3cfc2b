// One partition replica: the thin shell between a Raft core (src/raft, pure) and a partition
// log (src/storage). It feeds the core its inputs — ticks, messages, proposals, flushes, admin
// calls — one at a time, and carries out every Ready an input produced within that input's own
// queued task, in the order the core requires: persist quorum state, execute directives, send
// messages, advance, then report appends. So nothing (retention, say) runs between a Ready and
// its execution. Anything that fails on the way — a disk error, a log that ended where the core
// did not ask, a broken invariant — stops the replica and reopens it from disk (the core is
// rebuilt from what storage holds): core and log never go on out of step. Every partition is
// such a group; with one voter it elects itself and its high watermark follows its own flushes.
//
// Beside the log (docs/storage.md): quorum-state.json (epoch, vote, leader), voter-sets (the
// voter set at the log start and every voter record in the log); the log start's epoch is the
// log's own (log-start-offset). A state-machine log (the metadata log: options.stateMachine)
// also keeps snapshots there, and its committed records drive a state machine
// (state-machine-log.ts); a data partition has neither.
import { loadCodec, type Codec } from '../../codec/index.js'
import { ErrorCode } from '../../protocol/index.js'
import type {
  Leadership, Message, NodeId, QuorumState, RaftConfig, Ready, SnapshotId, SnapshotInfo, Status, TransferResult, VoterChangeResult, VoterSetAt,
} from '../../raft/types.js'
import {
  Serial, StorageError, systemTimers, type AppendInfo, type FileLayer, type LogConfig, type PartitionLog, type Timers, type VerifyResult,
} from '../../storage/index.js'
import { jsonLogger, type Logger } from '../log.js'
import { CommitWaiters } from './commit-waiters.js'
import { replicasFlushedTo } from './isr.js'
import { CORE_INPUTS_QUEUED_MAX, READY_ROUNDS_MAX, REOPEN_RETRY_TICKS } from './limits.js'
import { LogDamage, type ScrubBudget } from './log-damage.js'
import { executeDirective, type Append, type DirectiveContext } from './log-directives.js'
import type { QuorumStateStore } from './quorum-state-store.js'
import { ReplicaError } from './replica-error.js'
import { filesOf, openFromDisk, saveQuorumState, type Opened } from './replica-disk.js'
import type { StateMachineOptions } from './state-machine.js'
import { checkEntry, type ProducerBatchHeader, type ProducerStateTable } from './producer-state.js'
import { foldAppended, foldTail, rebuildProducerState } from './producer-state-log.js'
import { ProducerSnapshots } from './producer-state-snapshot.js'
import type { StateMachineLog } from './state-machine-log.js'
import { fitToLog, sameSets, saveVoterSets } from './voter-sets.js'

export interface ReplicaOptions {
  dir: string
  nodeId: NodeId
  /**
   * This node's directory id (meta.properties): with the node id, the replica's key (KIP-853), so
   * a node whose disk was wiped is not taken for the voter it was. Absent: unknown (matches any).
   */
  directoryId?: string
  /** The voter set a new partition starts with; one that exists keeps its own (voter-sets). */
  voters: readonly NodeId[]
  logConfig: LogConfig
  electionTimeoutTicks: number
  /** Where messages to other replicas go. */
  send?: (m: Message) => void
  random: (bound: number) => number
  fs?: FileLayer
  /** Clock and scheduling (default: the system's); the simulator injects virtual ones. */
  timers?: Timers
  /** Where the replica says why it reopened or went offline (default: JSON lines on stderr). */
  logger?: Logger
  /**
   * The core's other timings (the broker gives every one: raft-timing.ts); any left out is derived
   * from electionTimeoutTicks by replica-disk.ts's compact ratios (tests, the simulator).
   */
  raft?: Partial<Pick<RaftConfig,
    'fetchTimeoutTicks' | 'fetchMaxWaitTicks' | 'fetchRetryTicks' | 'beginQuorumRetryTicks' | 'leaderLinkDropTicks' | 'fetchMaxBytes' | 'observerContacts' | 'bugs'>>
  /** Told about every change to the log (the simulator's checker follows the log with it). */
  observer?: ReplicaObserver
  /**
   * The broker's shared quorum-state store (quorum-state-store.ts), in the directory above `dir`;
   * absent: the partition's own quorum-state.json (the metadata log, tests, the simulator).
   */
  quorumStates?: QuorumStateStore
  /** Opens fenced (see `setFenced`); default false. */
  fenced?: boolean
  /**
   * Damage handling (log-damage.ts): false turns off the background scrub and the check before a
   * campaign (a log opened after a clean stop is then trusted until read). Default true.
   */
  verifyLogs?: boolean
  /** The broker-wide scrub rate (default: the one shared by every replica on these timers). */
  scrubBudget?: ScrubBudget
  /**
   * Makes this a state-machine log (the metadata log): committed records drive the machine,
   * snapshots bound the log, followers behind the log start install the leader's snapshot.
   * Absent: a data partition (retention moves the log start; no snapshots).
   */
  stateMachine?: StateMachineOptions
  /** Idempotent producers idle longer than this are forgotten (producer.id.expiration.ms; default 1 day). */
  producerIdExpirationMs?: number
}

/** Kafka's producer.id.expiration.ms default: one day. */
export const PRODUCER_ID_EXPIRATION_MS_DEFAULT = 24 * 60 * 60 * 1000

/** Where a producer's batches lie after appendProduced: appended now, or found already in the log. */
export interface ProducedAppend {
  /** Each batch's base offset, in request order (duplicates at their original offsets). */
  readonly batchBaseOffsets: number[]
  /** The offset after the last batch (what acks=all waits for). */
  readonly nextOffset: number
  /** False when every batch was a duplicate: the offsets may be of an earlier leader's epoch. */
  readonly appendedNow: boolean
  /** The leader epoch the check and append ran in. */
  readonly epoch: number
}

/** What the shell did to its log, as it happens. */
export interface ReplicaObserver {
  /** `bytes` were appended at [info.firstOffset, info.nextOffset) (as leader or follower). */
  appended?(bytes: Uint8Array, info: AppendInfo): void
  /** The log is about to be truncated to `offset` (a follower's divergent tail). */
  truncating?(offset: number): void
  /** It was: the log now ends at `logEnd`. */
  truncated?(logEnd: number): void
  /** The log is about to be reset to start empty at `logStart` (a crash may stop it half way). */
  resetting?(logStart: number): void
  /** It was: empty at `logStart`, after a record of `logStartEpoch`, under `voters`. */
  reset?(logStart: number, logStartEpoch: number, voters: readonly NodeId[]): void
  /** The replica reopened from disk (after a failure, or a retry while offline). */
  reopened?(why: string): void
  /**
   * A state-machine log is about to write a snapshot of its state below `snapshot.endOffset`,
   * with `voters` in force there (a crash may leave it durable, or not); then the log start moves there.
   */
  snapshotting?(snapshot: SnapshotId, voters: readonly NodeId[]): void
  /** A downloaded snapshot was installed: the log starts empty at its end, the state machine holds it. */
  snapshotInstalled?(snapshot: SnapshotInfo): void
}

const DONE: Promise<void> = Promise.resolve()

/** A failure that is the request's (bad input, a refused proposal): the log was not touched. */
function isRequestError(err: unknown): boolean {
  if (err instanceof ReplicaError) return true
  return err instanceof StorageError && (err.code === 'INVALID_BATCH' || err.code === 'BATCH_TOO_LARGE')
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export class PartitionReplica {
  private readonly inputs: Serial
  private opened: Opened | null
  private hw = 0
  private leadership: Leadership
  private epochCommitted = false
  private readonly waiters: CommitWaiters
  private readonly directiveContext: DirectiveContext
  private readonly hwListeners = new Set<() => void>()
  private readonly leadershipListeners = new Set<(leadership: Leadership) => void>()
  private readonly timers: Timers
  private readonly logger: Logger
  private readonly crc: (b: Uint8Array) => number
  private closed = false
  private ticksOwed = 0
  /** The broker's fence as last set: applied to every core this replica builds. */
  private fenced: boolean
  /** A fence that could not be queued (a full queue): the next tick applies it. */
  private fenceOwed = false
  private tickQueued = false
  /** A Ready is being carried out outside the queue (carryOutNow): an input arriving meanwhile (a send delivered synchronously) queues. */
  private carryingOut = false
  private flushNoticeQueued = false
  private offlineTicks = 0
  /** The log instance the API last saw (kept while offline: it answers LOG_CLOSED). */
  private lastLog: PartitionLog
  /** Finding and repairing damage to the log (scrub, check before a campaign, truncation). */
  private readonly logDamage: LogDamage
  /**
   * Idempotent producers' state, a fold of the log up to its `end` (data partitions); null or
   * ending elsewhere than the log: rebuilt from the log before the next leader append needs it.
   */
  private producers: ProducerStateTable | null = null
  /** Producer state snapshots beside the log, by offset (data partitions; taken at rolls and at a clean close). */
  private readonly producerSnapshots: ProducerSnapshots

  private constructor(
    private readonly options: ReplicaOptions,
    private readonly codec: Codec,
    opened: Opened,
  ) {
    this.opened = opened
    this.lastLog = opened.log
    this.fenced = options.fenced ?? false
    this.leadership = opened.core.leadership()
    this.timers = options.timers ?? systemTimers
    this.logger = options.logger ?? jsonLogger({ partition: options.dir })
    this.crc = (b) => codec.crc32c(b)
    this.waiters = new CommitWaiters(this.timers)
    this.directiveContext = {
      codec, nodeId: options.nodeId, timers: this.timers, observer: options.observer,
      saveVoterSets: (o, sets) => this.saveVoterSets(o, sets),
    }
    this.logDamage = new LogDamage({
      dir: options.dir, fs: filesOf(options), logger: this.logger, timers: this.timers, scrubBudget: options.scrubBudget,
      enabled: options.stateMachine === undefined && options.verifyLogs !== false,
      run: (what, fn) => this.run(what, fn),
    })
    this.producerSnapshots = new ProducerSnapshots(filesOf(options), options.dir, this.crc)
    this.inputs = new Serial(CORE_INPUTS_QUEUED_MAX, (max) =>
      new ReplicaError(ErrorCode.THROTTLING_QUOTA_EXCEEDED, `partition ${options.dir} is busy: ${max} inputs are queued; retry shortly`))
  }

  static async open(options: ReplicaOptions): Promise<PartitionReplica> {
    const codec = await loadCodec()
    const replica = new PartitionReplica(options, codec, await openFromDisk(options, codec))
    await replica.takeProducerSnapshot()
    await replica.run('start', (o) => replica.startCore(o))
    if (replica.opened !== null) replica.logDamage.watch(replica.opened)
    return replica
  }

  // ---------------------------------------------------------------- what the broker reads

  /** The partition log (while offline after a failure: the failed one, which answers LOG_CLOSED). */
  get log(): PartitionLog {
    return this.opened?.log ?? this.lastLog
  }

  get highWatermark(): number {
    return this.hw
  }

  get isLeader(): boolean {
    return this.leadership.role === 'leader'
  }

  get leaderEpoch(): number {
    return this.leadership.epoch
  }

  get leaderId(): NodeId | null {
    return this.leadership.leaderId
  }

  /**
   * True once this replica leads and its epoch is committed (the core says so: the HW passed its
   * LeaderChange batch): from then on ListOffsets(latest) and fetches see everything.
   */
  get leaderReady(): boolean {
    return this.isLeader && this.epochCommitted
  }

  /** False after a failure it could not reopen from (it retries every REOPEN_RETRY_TICKS ticks). */
  get online(): boolean {
    return this.opened !== null
  }

  /**
   * State-machine log: offsets below this are applied to the state machine, all committed (right
   * after opening it is the snapshot's end while the HW, relearned, may still be lower). 0 for a
   * data partition, and while offline.
   */
  get appliedOffset(): number {
    return this.opened?.sm?.appliedEnd ?? 0
  }

  /** No input is queued or running (the simulator checks core against log only then). */
  get idle(): boolean {
    return this.inputs.size === 0
  }

  /**
   * Damage to this replica's log (log-damage.ts): ranges found since start (a counter), the log
   * end it must reach again before it votes or leads (null: not damaged), and whether part of the
   * log is still unchecked since open (the scrub is going on).
   */
  damage(): { rangesFound: number; damagedUntil: number | null; unverified: boolean } {
    return this.logDamage.state(this.opened)
  }

  /** The core's view (positions, role, voters). Throws while offline. */
  status(): Status {
    return this.current().core.status()
  }

  // ---------------------------------------------------------------- inputs

  /**
   * One unit of time. Never rejects; ticks owed while the queue is full are made up later. An
   * idle replica (no input queued or running, so its core is between Readies) is ticked here and
   * now, and queues a task only if the tick produced work: 1,000 idle partitions must not cost
   * 1,000 queued tasks a tick (issues 17 and 18).
   */
  tick(): Promise<void> {
    const o = this.opened
    if (o !== null) this.logDamage.onTick()
    if (o !== null && this.takesInputNow()) {
      o.core.tick()
      o.core.flushed(o.log.flushedOffset) // a flush notice lost to a full queue is made up here
      if (!o.core.hasReady() || this.carryOutNow(o, 'tick')) return DONE
      return this.run('tick', () => undefined).catch(() => undefined) // carries out the Ready
    }
    this.ticksOwed++
    if (this.tickQueued) return DONE
    this.tickQueued = true
    return this.inputs.run(() => this.onTicks()).catch(() => {
      this.tickQueued = false
    })
  }

  /** No input queued or running and no Ready being carried out: the core is between Readies and may take an input here and now. */
  private takesInputNow(): boolean {
    return this.inputs.size === 0 && !this.carryingOut && !this.closed && !this.fenceOwed
  }

  /**
   * A message from a peer. Never rejects: one that cannot be queued is dropped (peers retry). As
   * a tick, an idle replica takes it here and now and queues a task only for the Ready it produced:
   * a leader parks its followers' fetches, 1,333 a second per broker with 1,000 idle RF=3 partitions.
   */
  receive(m: Message): Promise<void> {
    const o = this.opened
    if (o !== null && this.takesInputNow()) {
      try {
        o.core.receive(m)
      } catch (err) {
        return this.run('receive', () => Promise.reject(err)).catch(() => undefined) // reopens, as a queued input's failure does
      }
      if (!o.core.hasReady() || this.carryOutNow(o, 'receive')) {
        this.releaseFlushWaiters()
        return DONE
      }
      return this.run('receive', () => undefined).catch(() => undefined) // carries out the Ready
    }
    return this.run('receive', (o) => o.core.receive(m)).catch(() => undefined)
  }

  /**
   * Appends producer batches as leader (stamping offsets and the epoch) and returns the assigned
   * range once written. The caller has validated them fully (the produce path does, in WASM,
   * decompressing under the limit, before it calls this: validation never holds the replica's
   * input queue), so the log checks framing only. `acks=all` callers then await
   * `committed(info.nextOffset)`.
   */
  appendValidated(batches: Uint8Array): Promise<AppendInfo> {
    return this.run('append', (o) => this.appendAsLeader(o, this.checkProposal(o), batches))
  }

  /** The epoch to append in; throws the retriable refusal when the core would not take a proposal now. */
  private checkProposal(o: Opened): number {
    const r = o.core.propose()
    if (r.ok) return r.epoch
    if (r.reason === 'notLeader') throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'this broker does not lead the partition', r.leaderId)
    if (r.reason === 'leaderNotReady') throw new ReplicaError(ErrorCode.LEADER_NOT_AVAILABLE, 'the new leader is still opening its epoch')
    if (r.reason === 'transferring') throw new ReplicaError(ErrorCode.LEADER_NOT_AVAILABLE, 'leadership is being handed to another replica; retry shortly')
    throw new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too much uncommitted data: replicas are behind')
  }

  /** A leader append the core accepted (checkProposal), folded into the producer state. */
  private async appendAsLeader(o: Opened, epoch: number, batches: Uint8Array): Promise<AppendInfo> {
    const before = o.log.logEndOffset
    const segment = o.log.activeSegmentBaseOffset
    const info = await o.log.appendAsLeader(batches, epoch, { prevalidated: true })
    this.foldProducers(o, batches, before, segment)
    this.options.observer?.appended?.(batches, info)
    o.core.appended(info.nextOffset)
    this.trackFlush(o.log, info.nextOffset)
    return info
  }

  /** The producer state of the log as it is now (rebuilt from the log if it no longer ends where the fold did). */
  private async producerState(o: Opened): Promise<ProducerStateTable> {
    const p = this.producers
    if (p !== null && p.end === o.log.logEndOffset) return p
    this.producers = null
    // A table behind the log (a snapshot's) folds only the tail; one past it (a truncation), or
    // before the log start, gives way to the newest snapshot the log can continue, else the whole log.
    const now = this.timers.now()
    const from = p !== null && p.end >= o.log.logStartOffset && p.end < o.log.logEndOffset ? p : await this.loadProducerSnapshot(o)
    const rebuilt = from !== null ? await foldTail(from, o.log, now) : await rebuildProducerState(o.log, this.expirationMs, now)
    this.producers = rebuilt
    return rebuilt
  }

  /**
   * Folds bytes the log took at `before` into the producer state; a state past `before` (the log
   * was truncated) is dropped, rebuilt when next needed. When the append rolled the log (its
   * active segment was `segment`), the state is snapshotted at the log end.
   */
  private foldProducers(o: Opened, bytes: Uint8Array, before: number, segment: number): void {
    if (o.sm !== null) return
    const p = this.producers
    // Behind the log (a snapshot's table): kept, its tail is folded when next needed; past it (truncated): dropped.
    if (p !== null && !foldAppended(p, bytes, before, this.timers.now()) && p.end > before) this.producers = null
    if (o.log.activeSegmentBaseOffset === segment) return
    if (this.producers !== null && this.producers.end === o.log.logEndOffset) void this.saveProducerSnapshot(o, 'roll')
    // A follower (or a leader since a truncation) without the state, or behind: brought up to the
    // log end once after this append (from its table or the newest snapshot), then kept by
    // folding; so followers snapshot at rolls too.
    else void this.run('producer state snapshot', async (next) => {
      await this.producerState(next)
      void this.saveProducerSnapshot(next, 'roll') // encoded now, written in the background
    }).catch(() => undefined) // closed or offline: the next roll tries again
  }

  /**
   * Appends one partition entry of producer batches as leader, as appendValidated does, after
   * checking their producer fields against the partition's producer state (producer-state.ts):
   * a prefix of duplicates is not appended again but answered with the original offsets; a gap,
   * an old epoch, an unknown producer or disagreeing batches refuse the whole entry (nothing
   * appended). `headers` are the batches' own, in order.
   */
  appendProduced(batches: Uint8Array, ranges: ReadonlyArray<readonly [number, number]>, headers: readonly ProducerBatchHeader[]): Promise<ProducedAppend> {
    return this.run('append', async (o) => {
      const epoch = this.checkProposal(o)
      const now = this.timers.now()
      const producers = await this.producerState(o)
      const verdict = checkEntry(producers, headers, now)
      if (verdict.kind === 'refused') throw new ReplicaError(verdict.code, verdict.message)
      const offsets = verdict.duplicates.map((d) => d.baseOffset)
      if (verdict.firstNew === headers.length) {
        const last = verdict.duplicates[verdict.duplicates.length - 1]
        return { batchBaseOffsets: offsets, nextOffset: last.lastOffset + 1, appendedNow: false, epoch }
      }
      const info = await this.appendAsLeader(o, epoch, batches.subarray(ranges[verdict.firstNew][0]))
      let next = info.firstOffset
      for (let i = verdict.firstNew; i < headers.length; i++) {
        offsets.push(next)
        next += headers[i].recordCount
      }
      return { batchBaseOffsets: offsets, nextOffset: info.nextOffset, appendedNow: true, epoch }
    })
  }

  /**
   * Resolves once the high watermark passes `offset`, the exclusive end of a batch this
   * leadership appended. Fails (retriable) if leadership changes first, or if the record before
   * `offset` is not of this leader's epoch (appended under an earlier leadership, whose data a
   * later leader may have replaced): never an acknowledgement for bytes the log does not hold.
   * `replicasNeeded` (min.insync.replicas): that many replicas, the leader among them, must have
   * flushed below `offset` too (it raises the bar above a majority, never lowers it); `timedOut`
   * names the error a timeout answers.
   */
  committed(offset: number, timeoutMs: number, replicasNeeded = 0, timedOut?: () => ReplicaError): Promise<void> {
    const o = this.opened
    if (o === null || !this.isLeader) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'this broker does not lead the partition', this.leaderId))
    }
    const epoch = this.leadership.epoch
    if (offset > o.log.logStartOffset && o.log.epochAt(offset - 1) !== epoch) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `offsets below ${offset} were not appended in this leader's epoch ${epoch}; whether the batch committed is unknown`, this.leaderId))
    }
    return this.waitCommitted(o, offset, epoch, timeoutMs, replicasNeeded, timedOut)
  }

  /**
   * As `committed`, for an entry of duplicates appendProduced found in this leader's log (written
   * in any epoch): they were in the log in `found.epoch`, and a leader's log keeps its entries
   * while it leads, so the HW passing them commits them; fails if the epoch is no longer this one's.
   */
  duplicateCommitted(found: ProducedAppend, timeoutMs: number, replicasNeeded = 0, timedOut?: () => ReplicaError): Promise<void> {
    const o = this.opened
    if (o === null || !this.isLeader || this.leadership.epoch !== found.epoch) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `leadership changed since the duplicate was found in epoch ${found.epoch}; whether it committed is unknown`, this.leaderId))
    }
    return this.waitCommitted(o, found.nextOffset, found.epoch, timeoutMs, replicasNeeded, timedOut)
  }

  private waitCommitted(o: Opened, offset: number, epoch: number, timeoutMs: number, replicasNeeded: number, timedOut?: () => ReplicaError): Promise<void> {
    if (offset <= this.hw && (replicasNeeded <= 1 || replicasFlushedTo(o.core.status(), offset) >= replicasNeeded)) return Promise.resolve()
    return this.waiters.wait(offset, epoch, timeoutMs, replicasNeeded > 1 ? replicasNeeded : 0, timedOut)
  }

  /**
   * Resolves true once the partition has a leader this replica can name: itself, ready to take
   * writes (leaderReady), or another replica it follows; false after timeoutMs.
   */
  async waitLeaderKnown(timeoutMs: number): Promise<boolean> {
    const deadline = this.timers.now() + timeoutMs
    const known = () => this.leaderReady || (this.leadership.leaderId !== null && this.leadership.leaderId !== this.options.nodeId)
    while (!known()) {
      const left = deadline - this.timers.now()
      if (left <= 0 || this.closed) return false
      await new Promise<void>((resolve) => {
        const cancel = this.timers.after(Math.min(50, left), done)
        const offHw = this.onHighWatermark(done)
        const offLeader = this.onLeadershipChange(done)
        function done() {
          cancel()
          offHw()
          offLeader()
          resolve()
        }
      })
    }
    return true
  }

  /** Called (synchronously) whenever the high watermark advances. */
  onHighWatermark(listener: () => void): () => void {
    this.hwListeners.add(listener)
    return () => this.hwListeners.delete(listener)
  }

  /** Leader: whether replica `id` fetched within the fetch timeout (it is up and following); false off the leader role. */
  hearsFrom(id: NodeId): boolean {
    const progress = this.opened?.core.status().progress?.find((p) => p.id === id)
    return progress !== undefined && progress.ticksSinceFetch >= 0 && progress.ticksSinceFetch <= this.fetchTimeoutTicks
  }

  /** The core's fetch timeout in ticks: a replica not heard from for longer is not following. */
  get fetchTimeoutTicks(): number {
    return this.options.raft?.fetchTimeoutTicks ?? this.options.electionTimeoutTicks // as replica-disk.ts
  }

  /** Called (synchronously) whenever the core reports a new role, epoch or leader (e.g. to report a leadership to the controller). */
  onLeadershipChange(listener: (leadership: Leadership) => void): () => void {
    this.leadershipListeners.add(listener)
    return () => this.leadershipListeners.delete(listener)
  }

  /** Leader: add `id` (an observer that caught up) to the voter set, by a voter record. */
  addVoter(id: NodeId): Promise<VoterChangeResult> {
    return this.run('addVoter', (o) => o.core.addVoter(id))
  }

  /** Leader: remove `id` from the voter set, by a voter record. */
  removeVoter(id: NodeId): Promise<VoterChangeResult> {
    return this.run('removeVoter', (o) => o.core.removeVoter(id))
  }

  /** Leader: hand leadership to `target` once it has caught up. */
  transferLeadership(target: NodeId): Promise<TransferResult> {
    return this.run('transferLeadership', (o) => o.core.transferLeadership(target))
  }

  /**
   * Fences (the broker's heartbeat lease expired) or unfences this replica: while fenced it
   * leads nothing and starts no campaign, and a leader resigns at once (src/raft/fence.ts); it
   * still votes, fetches and follows. The broker's state, not the log's: kept across reopens,
   * never persisted. Data partitions only, never the metadata log: a cluster whose brokers were
   * all fenced could elect no controller to unfence them. Never rejects: a fence that cannot be
   * queued is applied by the next tick.
   */
  setFenced(fenced: boolean): Promise<void> {
    this.fenced = fenced
    return this.run(fenced ? 'fence' : 'unfence', (o) => this.applyFence(o)).catch(() => {
      this.fenceOwed = true // or offline or closed: reopening applies it anyway
    })
  }

  /**
   * The peer link to `node` closed (the transport's onPeerClosed): if it leads this partition, a
   * follower pre-votes after a short random delay instead of its fetch timeout (the core's
   * `leaderUnreachable`). Never rejects: a notice that cannot be queued is dropped (the fetch
   * timeout still covers it).
   */
  leaderUnreachable(node: NodeId): Promise<void> {
    return this.run('leaderUnreachable', (o) => o.core.leaderUnreachable(node)).catch(() => undefined)
  }

  /**
   * Retention and compaction below the high watermark, on leaders and followers alike (data
   * partitions only).
   * Retention deletes only what the core also knows to be flushed, and runs as one input so
   * the core learns the new log start before it answers any fetch. Compaction keeps offsets
   * (and the log start), so it runs outside the queue and appends go on meanwhile.
   */
  async cleanLog(): Promise<void> {
    if (this.options.stateMachine !== undefined) return // its snapshots bound it
    const policy = this.log.config.cleanupPolicy
    if (policy !== 'compact') await this.run('retention', (o) => this.applyRetention(o))
    if (policy !== 'delete') await this.log.compact(this.hw)
  }

  /**
   * Starts a pre-vote now (a new partition's preferred replica need not wait out an election
   * timeout) unless an election is already under way or over (the core past epoch 0 or knowing a
   * leader: the published leadership can lag the core by a queued Ready, and a second campaign
   * would start a needless epoch); fenced, it does nothing.
   */
  campaign(): Promise<void> {
    return this.run('campaign', (o) => {
      const l = o.core.leadership()
      if (l.epoch === 0 && l.leaderId === null) o.core.campaign()
    }).catch((err: unknown) => {
      if (!(err instanceof ReplicaError)) throw err // closed or offline: nothing to campaign for
    })
  }

  /**
   * Graceful shutdown: a leader with other voters resigns first (EndQuorumEpoch), so a
   * successor campaigns at once instead of waiting out a fetch timeout.
   */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.isLeader && this.opened !== null && this.opened.core.status().voters.length > 1) {
      await this.run('resign', (o) => o.core.resign()).catch(() => undefined)
    }
    this.closed = true
    await this.inputs.idle()
    this.waiters.fail(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica is closing'))
    if (this.opened !== null) await this.saveProducerSnapshot(this.opened, 'close')
    await this.producerSnapshots.idle()
    await this.opened?.log.close()
  }

  /** Stops at once without flushing, as a crashed process would (the simulator's power cuts). */
  abandon(): void {
    this.closed = true
    this.opened?.log.abandon()
    this.waiters.fail(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica stopped'))
  }

  // ---------------------------------------------------------------- the shell

  private get expirationMs(): number {
    return this.options.producerIdExpirationMs ?? PRODUCER_ID_EXPIRATION_MS_DEFAULT
  }

  /** At open: the newest producer state snapshot the log can continue (producer-state-snapshot.ts); its tail is folded when first needed. */
  private async takeProducerSnapshot(): Promise<void> {
    const o = this.opened
    if (o === null || o.sm !== null) return
    this.producers = await this.loadProducerSnapshot(o)
  }

  /** The newest producer state snapshot at or below the log end that fits the log, or null (the whole log is folded). */
  private async loadProducerSnapshot(o: Opened): Promise<ProducerStateTable | null> {
    if (o.sm !== null) return null
    const warn = (why: string) => this.logger.warn('ignoring a damaged producer state snapshot', { dir: this.options.dir, error: why })
    const table = await this.producerSnapshots.load(o.log, this.expirationMs, this.timers.now(), warn)
    if (table !== null && table.end < o.log.logEndOffset) {
      // Says how much a crash or truncation costs: only the tail past the snapshot is read.
      this.logger.info('producer state from a snapshot; folding the log past it', { dir: this.options.dir, snapshotEnd: table.end, logEnd: o.log.logEndOffset })
    }
    return table
  }

  /**
   * The producer state, if it is the whole log's, as a snapshot beside the log (at a roll: not
   * awaited, written in the background one at a time; at a clean close: before the log closes).
   */
  private saveProducerSnapshot(o: Opened, why: 'roll' | 'close'): Promise<void> {
    if (o.sm !== null || this.producers === null || this.producers.end !== o.log.logEndOffset) return Promise.resolve()
    return this.producerSnapshots.save(this.producers, o.log).catch((err: unknown) => {
      this.logger.warn('could not save a producer state snapshot; recovery folds more of the log', { dir: this.options.dir, at: why, error: messageOf(err) })
    })
  }

  private current(): Opened {
    if (this.opened === null) {
      throw new ReplicaError(ErrorCode.KAFKA_STORAGE_ERROR, `partition ${this.options.dir} is offline after a storage failure; it retries reopening`)
    }
    return this.opened
  }

  /**
   * Runs `fn` against the core and log as one queued task, then carries out every Ready it
   * produced in the same task. A request's own failure (refused, bad input) is rethrown; any
   * other failure reopens the replica from disk first.
   */
  private run<T>(what: string, fn: (o: Opened) => T | Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica is closed'))
    return this.inputs.run(() => this.step(what, fn))
  }

  /** One input and its Readies (inside a queued task). */
  private async step<T>(what: string, fn: (o: Opened) => T | Promise<T>): Promise<T> {
    if (this.closed) throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica is closed')
    const o = this.current()
    let result: T
    try {
      result = await fn(o)
    } catch (err) {
      if (!isRequestError(err)) await this.recover(what, err)
      throw err
    }
    try {
      await this.drain(o)
    } catch (err) {
      await this.recover(what, err)
    }
    return result
  }

  /** The ticks owed (coalesced into one task); while offline, a periodic attempt to reopen. */
  private async onTicks(): Promise<void> {
    this.tickQueued = false
    const ticks = this.ticksOwed
    this.ticksOwed = 0
    if (this.closed) return
    if (this.opened === null) {
      this.offlineTicks += ticks
      if (this.offlineTicks < REOPEN_RETRY_TICKS) return
      this.offlineTicks = 0
      return this.reopen('retry after a failure')
    }
    await this.step('tick', (o) => {
      if (this.fenceOwed) this.applyFence(o)
      for (let i = 0; i < ticks; i++) o.core.tick()
      o.core.flushed(o.log.flushedOffset) // a flush notice lost to a full queue is made up here
    }).catch(() => undefined)
  }

  /**
   * A follower's fetch may report a flush that satisfies a min.insync.replicas waiter though the
   * HW did not move, and its fetch may be parked without a Ready: checked after every input.
   */
  private releaseFlushWaiters(): void {
    if (this.waiters.waitingOnFlushes) this.waiters.release(this.hw, this.flushedOn())
  }

  /**
   * Carries out, here and now, the Ready of an input taken outside the queue (an idle replica's
   * tick or message) when it needs no I/O: messages to send and changes to publish, as an idle
   * leader answering a parked fetch or an idle follower asking again. 1,000 idle RF=3 partitions
   * make thousands of these a second per broker, each a queued task and a chain of promises
   * otherwise. False (nothing done) when it needs the queue; a failure reopens, as in drain.
   */
  private carryOutNow(o: Opened, what: string): boolean {
    if (o.sm !== null || !o.core.readyNeedsNoIo()) return false
    this.carryingOut = true
    try {
      const rd = o.core.ready()
      for (const m of rd.messages) this.options.send?.(m)
      this.publish(o, rd)
      o.core.advance()
    } catch (err) {
      void this.run(what, () => Promise.reject(err)).catch(() => undefined) // reopens, as a queued input's failure does
      return true
    } finally {
      this.carryingOut = false
    }
    const repaired = this.logDamage.afterDrain(o)
    if (repaired !== null || o.core.hasReady()) void this.run(what, () => repaired ?? undefined).catch(() => undefined)
    return true
  }

  /** Carries out Readies until the core has none. Throws if any step fails (the caller reopens). */
  private async drain(o: Opened): Promise<void> {
    for (let rounds = 0; o.core.hasReady(); rounds++) {
      if (rounds >= READY_ROUNDS_MAX) throw new Error(`the core produced more than ${READY_ROUNDS_MAX} Readies for one input`)
      const rd = o.core.ready()
      const { appends, verdict } = await this.execute(o, rd)
      this.publish(o, rd)
      o.core.advance()
      for (const a of appends) o.core.appended(a.logEnd, a.range)
      for (const a of appends) this.trackFlush(o.log, a.logEnd)
      if (verdict !== null) this.logDamage.checked(o, verdict)
    }
    const repaired = this.logDamage.afterDrain(o)
    if (repaired !== null) await repaired
    this.releaseFlushWaiters()
    if (o.sm !== null) await this.advanceStateMachine(o, o.sm)
  }

  /** Applies what the HW committed; a snapshot when the policy asks (its Readies, if any, follow). */
  private async advanceStateMachine(o: Opened, sm: StateMachineLog): Promise<void> {
    await sm.applyCommitted(o.log, this.hw)
    if (!sm.snapshotDue(o.log)) return
    await sm.takeSnapshot(this.directiveContext, o)
    await this.drain(o)
  }

  private async execute(o: Opened, rd: Ready): Promise<{ appends: Append[]; verdict: VerifyResult | null }> {
    if (rd.quorumState !== null) await this.saveQuorumState(rd.quorumState)
    const appends: Append[] = []
    let verdict: VerifyResult | null = null
    const withheld = new Set<Message>()
    for (const d of rd.directives) {
      if (d.kind === 'verifyLog') {
        verdict = await this.logDamage.verifyWhole(o)
        continue
      }
      try {
        const before = o.log.logEndOffset
        const segment = o.log.activeSegmentBaseOffset
        const a = await executeDirective(this.directiveContext, o, d)
        if (a !== null) appends.push(a)
        if (d.kind === 'appendFetched') this.foldProducers(o, d.records as Uint8Array, before, segment)
        else if (a !== null && this.producers !== null) {
          // Control batches carry no producer; a table past the append's start (truncated) is
          // dropped, one behind it (a snapshot's) folds its tail when next needed.
          if (this.producers.end === before) this.producers.skipTo(a.logEnd)
          else if (this.producers.end > before) this.producers = null
        }
      } catch (err) {
        // A follower's fetch that reaches a damaged batch here: withhold the answer (an empty one
        // would say "nothing past your end"); the damage is being handled (watchDamage).
        if (d.kind !== 'attachRecords' || !(err instanceof StorageError) || err.code !== 'CORRUPT_DATA') throw err
        withheld.add(d.response)
      }
    }
    for (const m of rd.messages) if (!withheld.has(m)) this.options.send?.(m)
    return { appends, verdict }
  }

  /** Retention below what the core knows to be committed and flushed; the core learns the new start. */
  private async applyRetention(o: Opened): Promise<void> {
    const s = o.core.status()
    const before = o.log.logStartOffset
    await o.log.applyRetention(Math.min(s.highWatermark, s.flushedEnd))
    if (o.log.logStartOffset === before) return
    o.core.advanceLogStart(o.log.logStartOffset)
    await this.saveVoterSets(o, fitToLog(o.voterSets, o.log.logStartOffset, o.log.logEndOffset))
  }

  /** Leadership and HW changes of a Ready carried out, for waiters and readers. */
  private publish(o: Opened, rd: Ready): void {
    if (rd.leadership !== null) {
      this.leadership = rd.leadership
      if (rd.leadership.role !== 'leader') {
        this.waiters.fail(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'leadership moved', rd.leadership.leaderId))
      } else {
        this.waiters.fail(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'a new leader epoch began'), rd.leadership.epoch)
      }
    }
    if (rd.highWatermark !== null) this.advanceHighWatermark(rd.highWatermark)
    this.epochCommitted = this.leadership.role === 'leader' && o.core.epochCommitted()
    if (rd.leadership !== null) for (const listener of this.leadershipListeners) listener(rd.leadership)
  }

  /** Gives the core the broker's fence; an unfenced lone voter elects itself at once, as at start. */
  private applyFence(o: Opened): void {
    this.fenceOwed = false
    const was = o.core.status().fenced
    o.core.setFenced(this.fenced)
    if (was && !this.fenced) this.startCore(o)
  }

  private startCore(o: Opened): void {
    o.core.setFenced(this.fenced)
    const voters = o.core.status().voters
    if (voters.length === 1 && voters[0] === this.options.nodeId) o.core.campaign()
  }

  private saveQuorumState(state: QuorumState): Promise<void> {
    return saveQuorumState(this.options, state)
  }

  /** Writes the voter sets beside the log (if they changed) and keeps them as `o`'s. */
  private async saveVoterSets(o: Opened, sets: VoterSetAt[]): Promise<void> {
    if (sameSets(sets, o.voterSets)) return
    await saveVoterSets(filesOf(this.options), this.options.dir, sets, this.crc)
    o.voterSets = sets
  }

  /** When the log has flushed past `offset`, tell the core (its HW counts flushed data only). */
  private trackFlush(log: PartitionLog, offset: number): void {
    log.waitForFlush(offset).then(
      () => this.noteFlushed(),
      (err: unknown) => {
        // A failed fsync fails the log: reopen it (unless it was replaced already).
        if (this.opened?.log === log) void this.run('flush', () => Promise.reject(err)).catch(() => undefined)
      },
    )
  }

  private noteFlushed(): void {
    if (this.flushNoticeQueued || this.closed) return
    this.flushNoticeQueued = true
    this.run('flushed', (o) => {
      this.flushNoticeQueued = false
      o.core.flushed(o.log.flushedOffset)
    }).catch(() => {
      this.flushNoticeQueued = false // the next tick reports it
    })
  }

  /**
   * Something failed while the core's inputs and the log were being kept in step: drop both and
   * open again from disk (quorum state, voter sets, the log as recovery finds it), so the core
   * is rebuilt from what storage holds. Runs inside the failed input's task: nothing else runs
   * meanwhile. If reopening fails too, the replica is offline and retries on later ticks.
   */
  private async recover(what: string, err: unknown): Promise<void> {
    this.logger.warn('partition replica failed; reopening it from disk', { dir: this.options.dir, during: what, error: messageOf(err) })
    const failed = this.opened
    this.opened = null
    this.producers = null
    this.leadership = { role: 'unattached', epoch: this.leadership.epoch, leaderId: null }
    this.epochCommitted = false
    this.hw = 0
    this.waiters.fail(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `the replica is reopening after a failure (${messageOf(err)})`))
    if (failed !== null) await failed.log.close().catch(() => undefined)
    await this.reopen(`failure during ${what}: ${messageOf(err)}`)
  }

  private async reopen(why: string): Promise<void> {
    if (this.closed || this.opened !== null) return
    let o: Opened
    try {
      o = await openFromDisk(this.options, this.codec)
    } catch (err) {
      this.logger.error('partition replica offline: cannot reopen it', { dir: this.options.dir, error: messageOf(err) })
      return
    }
    this.opened = o
    this.lastLog = o.log
    this.leadership = o.core.leadership()
    this.options.observer?.reopened?.(why)
    try {
      this.startCore(o)
      await this.drain(o)
      this.logDamage.watch(o)
    } catch (err) {
      // Failing again at once: stay offline until the next retry rather than loop.
      this.logger.error('partition replica offline: it failed again after reopening', { dir: this.options.dir, error: messageOf(err) })
      this.opened = null
      await o.log.close().catch(() => undefined)
    }
  }

  /** How many replicas have flushed below an offset, from one status of the core taken when first asked. */
  private flushedOn(): (offset: number) => number {
    let status: Status | null = null
    return (offset) => {
      const o = this.opened
      if (o === null) return 0
      status ??= o.core.status()
      return replicasFlushedTo(status, offset)
    }
  }

  private advanceHighWatermark(hw: number): void {
    if (hw <= this.hw) return
    this.hw = hw
    this.waiters.release(hw, this.flushedOn())
    for (const listener of this.hwListeners) listener()
  }
}
