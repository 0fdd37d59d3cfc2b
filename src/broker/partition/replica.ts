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
// log's own (log-start-offset).
import { join } from 'node:path'
import { loadCodec, type Codec } from '../../codec/index.js'
import { ErrorCode } from '../../protocol/index.js'
import { RaftCore } from '../../raft/core.js'
import { FETCH_MAX_BYTES_DEFAULT } from '../../raft/limits.js'
import type {
  AppendedRange, Directive, Leadership, Message, NodeId, QuorumState, RaftConfig, Ready, Status, TransferResult,
  VoterChangeResult, VoterSetAt,
} from '../../raft/types.js'
import {
  NodeFileLayer, PartitionLog, readSmallFile, Serial, StorageError, systemTimers, writeFileAtomic,
  type AppendInfo, type FileLayer, type LogConfig, type Timers,
} from '../../storage/index.js'
import { jsonLogger, type Logger } from '../log.js'
import { leaderChangeBatch, voterRecordsIn, votersBatch } from './control-records.js'
import { CORE_INPUTS_QUEUED_MAX, HW_WAITERS_MAX, READY_ROUNDS_MAX, REOPEN_RETRY_TICKS } from './limits.js'
import { ReplicaError } from './replica-error.js'
import { fitToLog, loadVoterSets, sameSets, saveVoterSets, withRecord } from './voter-sets.js'

const QUORUM_STATE_FILE = 'quorum-state.json'

export interface ReplicaOptions {
  dir: string
  nodeId: NodeId
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
  /** Overrides of the core settings derived from electionTimeoutTicks (tests, the simulator). */
  raft?: Partial<Pick<RaftConfig,
    'fetchTimeoutTicks' | 'fetchMaxWaitTicks' | 'fetchRetryTicks' | 'beginQuorumRetryTicks' | 'fetchMaxBytes' | 'observerContacts' | 'bugs'>>
  /** Told about every change to the log (the simulator's checker follows the log with it). */
  observer?: ReplicaObserver
}

/** What the shell did to its log, as it happens. */
export interface ReplicaObserver {
  /** `bytes` were appended at [info.firstOffset, info.nextOffset) (as leader or follower). */
  appended?(bytes: Uint8Array, info: AppendInfo): void
  /** The log is about to be truncated to `offset` (a follower's divergent tail). */
  truncating?(offset: number): void
  /** It was: the log now ends at `logEnd`. */
  truncated?(logEnd: number): void
  /** The log was reset: empty at `logStart`, after a record of `logStartEpoch`, under `voters`. */
  reset?(logStart: number, logStartEpoch: number, voters: readonly NodeId[]): void
  /** The replica reopened from disk (after a failure, or a retry while offline). */
  reopened?(why: string): void
}

interface HwWaiter {
  offset: number
  /** The leader epoch it was made in: any other epoch fails it. */
  epoch: number
  resolve: () => void
  reject: (err: Error) => void
}

/** What an open replica works on; replaced whole when it reopens. */
interface Opened {
  readonly log: PartitionLog
  readonly core: RaftCore
  /** The voter set at the log start and each voter record in the log, as on disk. */
  voterSets: VoterSetAt[]
}

interface Append {
  logEnd: number
  range: AppendedRange
}

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
  private hwWaiters: HwWaiter[] = []
  private readonly hwListeners = new Set<() => void>()
  private readonly timers: Timers
  private readonly logger: Logger
  private readonly crc: (b: Uint8Array) => number
  private closed = false
  private ticksOwed = 0
  private tickQueued = false
  private flushNoticeQueued = false
  private offlineTicks = 0
  /** The log instance the API last saw (kept while offline: it answers LOG_CLOSED). */
  private lastLog: PartitionLog
  /** Opens from disk so far (1 after `open`): the simulator counts a reopen as a restart. */
  incarnation = 1

  private constructor(
    private readonly options: ReplicaOptions,
    private readonly codec: Codec,
    opened: Opened,
  ) {
    this.opened = opened
    this.lastLog = opened.log
    this.leadership = opened.core.leadership()
    this.timers = options.timers ?? systemTimers
    this.logger = options.logger ?? jsonLogger({ partition: options.dir })
    this.crc = (b) => codec.crc32c(b)
    this.inputs = new Serial(CORE_INPUTS_QUEUED_MAX, (max) =>
      new ReplicaError(ErrorCode.THROTTLING_QUOTA_EXCEEDED, `partition ${options.dir} is busy: ${max} inputs are queued; retry shortly`))
  }

  static async open(options: ReplicaOptions): Promise<PartitionReplica> {
    const codec = await loadCodec()
    const replica = new PartitionReplica(options, codec, await openFromDisk(options, codec))
    await replica.run('start', (o) => replica.startCore(o))
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

  /** No input is queued or running (the simulator checks core against log only then). */
  get idle(): boolean {
    return this.inputs.size === 0
  }

  /** The core's view (positions, role, voters). Throws while offline. */
  status(): Status {
    return this.current().core.status()
  }

  // ---------------------------------------------------------------- inputs

  /** One unit of time. Never rejects; ticks owed while the queue is full are made up later. */
  tick(): Promise<void> {
    this.ticksOwed++
    if (this.tickQueued) return Promise.resolve()
    this.tickQueued = true
    return this.inputs.run(() => this.onTicks()).catch(() => {
      this.tickQueued = false
    })
  }

  /** A message from a peer. Never rejects: one that cannot be queued is dropped (peers retry). */
  receive(m: Message): Promise<void> {
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
    return this.run('append', async (o) => {
      const r = o.core.propose()
      if (!r.ok) {
        if (r.reason === 'notLeader') throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'this broker does not lead the partition', r.leaderId)
        if (r.reason === 'leaderNotReady') throw new ReplicaError(ErrorCode.LEADER_NOT_AVAILABLE, 'the new leader is still opening its epoch')
        if (r.reason === 'transferring') throw new ReplicaError(ErrorCode.LEADER_NOT_AVAILABLE, 'leadership is being handed to another replica; retry shortly')
        throw new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too much uncommitted data: replicas are behind')
      }
      const info = await o.log.appendAsLeader(batches, r.epoch, { prevalidated: true })
      this.options.observer?.appended?.(batches, info)
      o.core.appended(info.nextOffset)
      this.trackFlush(o.log, info.nextOffset)
      return info
    })
  }

  /**
   * Resolves once the high watermark passes `offset`, the exclusive end of a batch this
   * leadership appended. Fails (retriable) if leadership changes first, or if the record before
   * `offset` is not of this leader's epoch (appended under an earlier leadership, whose data a
   * later leader may have replaced): never an acknowledgement for bytes the log does not hold.
   */
  committed(offset: number, timeoutMs: number): Promise<void> {
    const o = this.opened
    if (o === null || !this.isLeader) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'this broker does not lead the partition', this.leaderId))
    }
    const epoch = this.leadership.epoch
    if (offset > o.log.logStartOffset && o.log.epochAt(offset - 1) !== epoch) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `offsets below ${offset} were not appended in this leader's epoch ${epoch}; whether the batch committed is unknown`, this.leaderId))
    }
    if (offset <= this.hw) return Promise.resolve()
    if (this.hwWaiters.length >= HW_WAITERS_MAX) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too many produce requests waiting for replication'))
    }
    return new Promise((resolve, reject) => {
      const waiter: HwWaiter = { offset, epoch, resolve, reject }
      const cancel = this.timers.after(timeoutMs, () => {
        this.hwWaiters = this.hwWaiters.filter((w) => w !== waiter)
        reject(new ReplicaError(ErrorCode.REQUEST_TIMED_OUT, `not replicated within ${timeoutMs} ms; the batch may still commit`))
      })
      waiter.resolve = () => {
        cancel()
        resolve()
      }
      waiter.reject = (err) => {
        cancel()
        reject(err)
      }
      this.hwWaiters.push(waiter)
    })
  }

  /** Resolves true once leaderReady, or false after timeoutMs. */
  async waitLeaderReady(timeoutMs: number): Promise<boolean> {
    const deadline = this.timers.now() + timeoutMs
    while (!this.leaderReady) {
      const left = deadline - this.timers.now()
      if (left <= 0 || this.closed) return false
      await new Promise<void>((resolve) => {
        const cancel = this.timers.after(Math.min(50, left), done)
        const off = this.onHighWatermark(done)
        function done() {
          cancel()
          off()
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
   * Retention and compaction below the high watermark, on leaders and followers alike.
   * Retention deletes only what the core also knows to be flushed, and runs as one input so
   * the core learns the new log start before it answers any fetch. Compaction keeps offsets
   * (and the log start), so it runs outside the queue and appends go on meanwhile.
   */
  async cleanLog(): Promise<void> {
    const policy = this.log.config.cleanupPolicy
    if (policy !== 'compact') await this.run('retention', (o) => this.applyRetention(o))
    if (policy !== 'delete') await this.log.compact(this.hw)
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
    this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica is closing'))
    await this.opened?.log.close()
  }

  /** Stops at once without flushing, as a crashed process would (the simulator's power cuts). */
  abandon(): void {
    this.closed = true
    this.opened?.log.abandon()
    this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica stopped'))
  }

  // ---------------------------------------------------------------- the shell

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
      for (let i = 0; i < ticks; i++) o.core.tick()
      o.core.flushed(o.log.flushedOffset) // a flush notice lost to a full queue is made up here
    }).catch(() => undefined)
  }

  /** Carries out Readies until the core has none. Throws if any step fails (the caller reopens). */
  private async drain(o: Opened): Promise<void> {
    for (let rounds = 0; o.core.hasReady(); rounds++) {
      if (rounds >= READY_ROUNDS_MAX) throw new Error(`the core produced more than ${READY_ROUNDS_MAX} Readies for one input`)
      const rd = o.core.ready()
      const appends = await this.execute(o, rd)
      this.publish(o, rd)
      o.core.advance()
      for (const a of appends) o.core.appended(a.logEnd, a.range)
      for (const a of appends) this.trackFlush(o.log, a.logEnd)
    }
  }

  private async execute(o: Opened, rd: Ready): Promise<Append[]> {
    if (rd.quorumState !== null) await this.saveQuorumState(rd.quorumState)
    const appends: Append[] = []
    for (const d of rd.directives) {
      const a = await this.executeDirective(o, d)
      if (a !== null) appends.push(a)
    }
    for (const m of rd.messages) this.options.send?.(m)
    return appends
  }

  private async executeDirective(o: Opened, d: Directive): Promise<Append | null> {
    const log = o.log
    switch (d.kind) {
      case 'appendLeaderChange': {
        const bytes = leaderChangeBatch(this.codec, d.epoch, this.options.nodeId, d.voters, this.timers.now())
        const info = await log.appendAsLeader(bytes, d.epoch)
        this.options.observer?.appended?.(bytes, info)
        return { logEnd: info.nextOffset, range: { epochStarts: [{ epoch: d.epoch, startOffset: info.firstOffset }] } }
      }
      case 'appendVoters': {
        const offset = log.logEndOffset
        // The entry first: a record on disk must never lack it (voter-sets.ts).
        await this.saveVoterSets(o, withRecord(o.voterSets, offset, d.voters))
        const bytes = votersBatch(this.codec, d.epoch, d.voters, this.timers.now())
        const info = await log.appendAsLeader(bytes, d.epoch)
        this.options.observer?.appended?.(bytes, info)
        return { logEnd: info.nextOffset, range: { epochStarts: this.epochStartsFrom(log, offset), voterSets: [{ offset, voters: d.voters }] } }
      }
      case 'appendFetched': {
        const before = log.logEndOffset
        if (d.fromOffset !== before) throw new Error(`the core appends at ${d.fromOffset}, the log ends at ${before}`)
        const bytes = d.records as Uint8Array
        const voterSets = voterRecordsIn(this.codec, bytes)
        if (voterSets.length > 0) await this.saveVoterSets(o, [...o.voterSets, ...voterSets])
        // A compacted leader's log has offset gaps: its batches may start past our end.
        const info = await log.appendAsFollower(bytes, { allowGap: true })
        this.options.observer?.appended?.(bytes, info)
        return { logEnd: info.nextOffset, range: { epochStarts: this.epochStartsFrom(log, before), voterSets } }
      }
      case 'attachRecords': {
        // An empty read (a compaction gap up to the log end) is no records, not an empty batch list.
        const { bytes } = await log.read(d.fromOffset, d.maxBytes)
        d.response.records = bytes.length === 0 ? null : bytes
        return null
      }
      case 'truncate': {
        this.options.observer?.truncating?.(d.offset)
        await log.truncateTo(d.offset)
        this.options.observer?.truncated?.(log.logEndOffset)
        // A batch straddling the offset goes whole: the core would count offsets the log lacks.
        if (log.logEndOffset !== d.offset) throw new Error(`truncation to ${d.offset} ended the log at ${log.logEndOffset} (a batch straddled it)`)
        await this.saveVoterSets(o, fitToLog(o.voterSets, log.logStartOffset, log.logEndOffset))
        return null
      }
      case 'resetLog':
        await this.resetLog(o, d.logStart, d.logStartEpoch, d.voters)
        return null
      case 'attachSnapshotChunk':
      case 'writeSnapshotChunk':
      case 'installSnapshot':
        throw new Error(`data partitions have no snapshots (${d.kind})`)
    }
  }

  /**
   * A follower behind the leader's log start starts over there, with the epoch and voter set
   * in force at that start. Each step leaves a state a crash may stop in: the log emptied where
   * it stands, then the new set written beside the old one (its entry lies past the empty log's
   * end until the reset lands), then the log reset to its new start.
   */
  private async resetLog(o: Opened, logStart: number, logStartEpoch: number, voters: readonly NodeId[]): Promise<void> {
    const log = o.log
    if (log.logEndOffset > log.logStartOffset) await log.truncateTo(log.logStartOffset)
    const emptied = fitToLog(o.voterSets, log.logStartOffset, log.logEndOffset)
    const base = emptied[emptied.length - 1]
    const entry = { offset: logStart - 1, voters: [...voters] }
    await this.saveVoterSets(o, base !== undefined && base.offset < entry.offset ? [...emptied, entry] : [entry])
    await log.truncateFullyAndStartAt(logStart, logStartEpoch)
    o.voterSets = [entry]
    if (log.logStartOffset !== logStart || log.logEndOffset !== logStart) throw new Error(`reset to ${logStart} left the log at [${log.logStartOffset}, ${log.logEndOffset})`)
    this.options.observer?.reset?.(logStart, logStartEpoch, voters)
  }

  private applyRetention(o: Opened): Promise<void> | void {
    const s = o.core.status()
    const before = o.log.logStartOffset
    return o.log.applyRetention(Math.min(s.highWatermark, s.flushedEnd)).then(async () => {
      if (o.log.logStartOffset === before) return
      o.core.advanceLogStart(o.log.logStartOffset)
      const folded = fitToLog(o.voterSets, o.log.logStartOffset, o.log.logEndOffset)
      if (folded.length !== o.voterSets.length) await this.saveVoterSets(o, folded)
    })
  }

  /** Leadership and HW changes of a Ready carried out, for waiters and readers. */
  private publish(o: Opened, rd: Ready): void {
    if (rd.leadership !== null) {
      this.leadership = rd.leadership
      if (rd.leadership.role !== 'leader') {
        this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'leadership moved', rd.leadership.leaderId))
      } else {
        this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'a new leader epoch began'), rd.leadership.epoch)
      }
    }
    if (rd.highWatermark !== null) this.advanceHighWatermark(rd.highWatermark)
    this.epochCommitted = this.leadership.role === 'leader' && o.core.epochCommitted()
  }

  private startCore(o: Opened): void {
    const voters = o.core.status().voters
    if (voters.length === 1 && voters[0] === this.options.nodeId) o.core.campaign()
  }

  /** Epochs the log's cache started at or after `from` (those an append just opened). */
  private epochStartsFrom(log: PartitionLog, from: number) {
    return log.epochEntries().filter((e) => e.startOffset >= from).map((e) => ({ epoch: e.epoch, startOffset: e.startOffset }))
  }

  private async saveQuorumState(state: QuorumState): Promise<void> {
    await writeFileAtomic(this.fs(), join(this.options.dir, QUORUM_STATE_FILE), new TextEncoder().encode(JSON.stringify(state)))
  }

  private async saveVoterSets(o: Opened, sets: VoterSetAt[]): Promise<void> {
    if (sameSets(sets, o.voterSets)) return
    await saveVoterSets(this.fs(), this.options.dir, sets, this.crc)
    o.voterSets = sets
  }

  private fs(): FileLayer {
    return this.options.fs ?? defaultFs
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
    this.leadership = { role: 'unattached', epoch: this.leadership.epoch, leaderId: null }
    this.epochCommitted = false
    this.hw = 0
    this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `the replica is reopening after a failure (${messageOf(err)})`))
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
    this.incarnation++
    this.leadership = o.core.leadership()
    this.options.observer?.reopened?.(why)
    try {
      this.startCore(o)
      await this.drain(o)
    } catch (err) {
      // Failing again at once: stay offline until the next retry rather than loop.
      this.logger.error('partition replica offline: it failed again after reopening', { dir: this.options.dir, error: messageOf(err) })
      this.opened = null
      await o.log.close().catch(() => undefined)
    }
  }

  private advanceHighWatermark(hw: number): void {
    if (hw <= this.hw) return
    this.hw = hw
    const ready = this.hwWaiters.filter((w) => w.offset <= hw)
    if (ready.length > 0) this.hwWaiters = this.hwWaiters.filter((w) => w.offset > hw)
    for (const w of ready) w.resolve()
    for (const listener of this.hwListeners) listener()
  }

  /** Fails the waiters of every epoch but `keepEpoch`. */
  private failWaiters(err: ReplicaError, keepEpoch = -1): void {
    const failing = this.hwWaiters.filter((w) => w.epoch !== keepEpoch)
    if (failing.length === 0) return
    this.hwWaiters = this.hwWaiters.filter((w) => w.epoch === keepEpoch)
    for (const w of failing) w.reject(err)
  }
}

const defaultFs = new NodeFileLayer()

/** Opens the log and what lies beside it, and builds a core from them. */
async function openFromDisk(options: ReplicaOptions, codec: Codec): Promise<Opened> {
  const fs = options.fs ?? defaultFs
  await fs.mkdirp(options.dir)
  const log = await PartitionLog.open({ dir: options.dir, config: options.logConfig, fs, codec, timers: options.timers })
  try {
    const crc = (b: Uint8Array) => codec.crc32c(b)
    const saved = readSmallFile(fs, join(options.dir, QUORUM_STATE_FILE))
    const quorum = saved === null ? null : (JSON.parse(new TextDecoder().decode(saved)) as QuorumState)
    // A new partition's voters come from config, once; then from the file.
    const loaded = loadVoterSets(fs, options.dir, crc)
    const initial = loaded ?? [{ offset: log.logStartOffset - 1, voters: [...options.voters] }]
    let voterSets = fitToLog(initial, log.logStartOffset, log.logEndOffset)
    if (voterSets.length === 0) voterSets = [{ offset: log.logStartOffset - 1, voters: [...options.voters] }]
    if (loaded === null || !sameSets(loaded, voterSets)) await saveVoterSets(fs, options.dir, voterSets, crc)
    const e = options.electionTimeoutTicks
    const core = new RaftCore(
      {
        id: options.nodeId,
        voters: voterSets[0].voters,
        electionTimeoutTicks: e,
        fetchTimeoutTicks: e,
        fetchMaxWaitTicks: Math.max(1, Math.floor(e / 4)),
        fetchRetryTicks: Math.max(2, Math.floor(e / 2)),
        beginQuorumRetryTicks: Math.max(1, Math.floor(e / 2)),
        fetchMaxBytes: FETCH_MAX_BYTES_DEFAULT,
        random: options.random,
        ...options.raft,
      },
      quorum,
      {
        logStart: log.logStartOffset,
        logEnd: log.logEndOffset,
        flushedEnd: log.flushedOffset,
        epochs: log.epochEntries(),
        logStartEpoch: log.logStartEpoch,
        voterSets,
      },
    )
    return { log, core, voterSets }
  } catch (err) {
    await log.close().catch(() => undefined)
    throw err
  }
}
