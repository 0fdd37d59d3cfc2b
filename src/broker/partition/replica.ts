// One partition replica: the thin shell between a Raft core (src/raft, pure) and a partition
// log (src/storage). It feeds the core its inputs — ticks, proposals, appends, flushes,
// messages — and carries out each Ready in the order the core requires: persist quorum state,
// execute directives, send messages, advance, then report appends. Every partition is such a
// group from day one; with one voter it elects itself and its high watermark follows its own
// flushes, so adding replicas later adds voters instead of a new data path.
import { join } from 'node:path'
import { loadCodec, type Codec } from '../../codec/index.js'
import { ErrorCode } from '../../protocol/index.js'
import { RaftCore } from '../../raft/core.js'
import type { Directive, EpochStart, Leadership, Message, NodeId, QuorumState, Ready } from '../../raft/types.js'
import {
  NodeFileLayer, PartitionLog, readSmallFile, writeFileAtomic, type AppendInfo, type FileLayer, type LogConfig,
} from '../../storage/index.js'
import { ReplicaError } from './replica-error.js'
import { Serial } from '../../storage/index.js'

const QUORUM_STATE_FILE = 'quorum-state.json'
/** Core inputs waiting for the shell (ticks, proposals, flushes): bounded per replica. */
const CORE_INPUTS_QUEUED_MAX = 10_000
/** acks=all waiters per replica, bounded by the broker's in-flight limits in practice. */
const HW_WAITERS_MAX = 100_000

export interface ReplicaOptions {
  dir: string
  nodeId: NodeId
  voters: readonly NodeId[]
  logConfig: LogConfig
  electionTimeoutTicks: number
  /** Where messages to other replicas go (unused while every group has one voter). */
  send?: (m: Message) => void
  random: (bound: number) => number
  fs?: FileLayer
}

interface HwWaiter {
  offset: number
  resolve: () => void
  reject: (err: Error) => void
}

export class PartitionReplica {
  private readonly serial = new Serial(CORE_INPUTS_QUEUED_MAX)
  private hw = 0
  private leadership: Leadership
  private hwWaiters: HwWaiter[] = []
  private readonly hwListeners = new Set<() => void>()
  private pumping = false
  private closed = false

  private constructor(
    readonly log: PartitionLog,
    private readonly core: RaftCore,
    private readonly options: ReplicaOptions,
    private readonly codec: Codec,
    private readonly fs: FileLayer,
  ) {
    this.leadership = core.leadership()
  }

  static async open(options: ReplicaOptions): Promise<PartitionReplica> {
    const fs = options.fs ?? new NodeFileLayer()
    await fs.mkdirp(options.dir)
    const codec = await loadCodec()
    const log = await PartitionLog.open({ dir: options.dir, config: options.logConfig, fs, codec })
    const saved = readSmallFile(fs, join(options.dir, QUORUM_STATE_FILE))
    const persisted = saved === null ? null : (JSON.parse(new TextDecoder().decode(saved)) as QuorumState)
    const core = new RaftCore(
      {
        id: options.nodeId,
        voters: options.voters,
        electionTimeoutTicks: options.electionTimeoutTicks,
        fetchTimeoutTicks: options.electionTimeoutTicks,
        fetchMaxWaitTicks: Math.max(1, Math.floor(options.electionTimeoutTicks / 4)),
        fetchRetryTicks: Math.max(2, Math.floor(options.electionTimeoutTicks / 2)),
        beginQuorumRetryTicks: Math.max(1, Math.floor(options.electionTimeoutTicks / 2)),
        fetchMaxBytes: 1 << 20,
        random: options.random,
      },
      persisted,
      {
        logStart: log.logStartOffset,
        logEnd: log.logEndOffset,
        flushedEnd: log.flushedOffset,
        epochs: log.epochEntries().map((e) => ({ epoch: e.epoch, startOffset: e.startOffset })),
      },
    )
    const replica = new PartitionReplica(log, core, options, codec, fs)
    if (options.voters.length === 1 && options.voters[0] === options.nodeId) await replica.input(() => core.campaign())
    return replica
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

  tick(): Promise<void> {
    return this.input(() => this.core.tick())
  }

  receive(m: Message): Promise<void> {
    return this.input(() => this.core.receive(m))
  }

  /**
   * Appends producer batches as leader (stamping offsets and the epoch) and returns the assigned
   * range once written. The caller has validated them fully (the produce path does, in WASM,
   * decompressing under the limit, before it calls this: validation never holds the replica's
   * input lock), so the log checks framing only. `acks=all` callers then await
   * `committed(info.nextOffset)`.
   */
  async appendValidated(batches: Uint8Array): Promise<AppendInfo> {
    const info = await this.serial.run(async () => {
      const r = this.core.propose()
      if (!r.ok) {
        if (r.reason === 'notLeader') throw new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'this broker does not lead the partition', r.leaderId)
        if (r.reason === 'leaderNotReady') throw new ReplicaError(ErrorCode.LEADER_NOT_AVAILABLE, 'the new leader is still opening its epoch')
        if (r.reason === 'transferring') throw new ReplicaError(ErrorCode.LEADER_NOT_AVAILABLE, 'leadership is being handed to another replica; retry shortly')
        throw new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too much uncommitted data: replicas are behind')
      }
      const appended = await this.log.appendAsLeader(batches, r.epoch, { prevalidated: true })
      this.core.appended(appended.nextOffset)
      return appended
    })
    this.afterInput()
    this.trackFlush(info.nextOffset)
    return info
  }

  /** Resolves once the high watermark passes `offset` (exclusive end of a produce). */
  committed(offset: number, timeoutMs: number): Promise<void> {
    if (offset <= this.hw) return Promise.resolve()
    if (this.hwWaiters.length >= HW_WAITERS_MAX) {
      return Promise.reject(new ReplicaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'too many produce requests waiting for replication'))
    }
    return new Promise((resolve, reject) => {
      const waiter: HwWaiter = { offset, resolve, reject }
      const timer = setTimeout(() => {
        this.hwWaiters = this.hwWaiters.filter((w) => w !== waiter)
        reject(new ReplicaError(ErrorCode.REQUEST_TIMED_OUT, `not replicated within ${timeoutMs} ms; the batch may still commit`))
      }, timeoutMs)
      waiter.resolve = () => {
        clearTimeout(timer)
        resolve()
      }
      waiter.reject = (err) => {
        clearTimeout(timer)
        reject(err)
      }
      this.hwWaiters.push(waiter)
    })
  }

  /**
   * True once this replica leads and its epoch is committed (the HW passed the epoch's
   * LeaderChange batch): from then on ListOffsets(latest) and fetches see everything.
   */
  get leaderReady(): boolean {
    if (!this.isLeader) return false
    const start = this.log.epochEntries().find((e) => e.epoch === this.leadership.epoch)?.startOffset
    return start !== undefined && this.hw > start
  }

  /** Resolves true once leaderReady, or false after timeoutMs. */
  async waitLeaderReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.leaderReady) {
      if (Date.now() >= deadline || this.closed) return false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(50, Math.max(1, deadline - Date.now())))
        const off = this.onHighWatermark(done)
        function done() {
          clearTimeout(timer)
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

  /**
   * Retention and compaction below the high watermark. Retention deletes only what the core
   * also knows to be flushed, and runs under the input lock so the core learns the new log
   * start before any fetch could ask for what is gone. Compaction keeps offsets (and the log
   * start), so it runs outside the lock and appends go on meanwhile.
   */
  async cleanLog(): Promise<void> {
    const policy = this.log.config.cleanupPolicy
    if (policy !== 'compact') {
      await this.input(async () => {
        await this.log.applyRetention(Math.min(this.hw, this.core.status().flushedEnd))
        this.core.advanceLogStart(this.log.logStartOffset)
      })
    }
    if (policy !== 'delete') await this.log.compact(this.hw)
  }

  /**
   * Graceful shutdown: a leader with other voters resigns first (EndQuorumEpoch), so a
   * successor campaigns at once instead of waiting out a fetch timeout.
   */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.isLeader && this.core.status().voters.length > 1) {
      await this.input(() => this.core.resign())
      await this.serial.run(() => undefined) // the resignation's Ready has been carried out
    }
    this.closed = true
    await this.serial.run(() => undefined)
    this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the replica is closing'))
    await this.log.close()
  }

  // ---------------------------------------------------------------- the shell

  /** Runs one core input under the serial lock, then drains Readies. */
  private async input(fn: () => void | Promise<void>): Promise<void> {
    if (this.closed) return
    await this.serial.run(fn)
    this.afterInput()
  }

  private afterInput(): void {
    if (!this.pumping && this.core.hasReady()) void this.pump()
  }

  /** Carries out Readies until the core has none; one pump at a time. */
  private async pump(): Promise<void> {
    this.pumping = true
    try {
      while (!this.closed && this.core.hasReady()) {
        const appends: Array<{ logEnd: number; epochStarts: EpochStart[] }> = []
        await this.serial.run(async () => {
          const rd = this.core.ready()
          try {
            await this.execute(rd, appends)
          } finally {
            this.core.advance()
          }
          for (const a of appends) this.core.appended(a.logEnd, { epochStarts: a.epochStarts })
        })
        for (const a of appends) this.trackFlush(a.logEnd)
      }
    } catch (err) {
      // A failed log (I/O error) leaves the replica unable to make progress: fail its waiters.
      this.failWaiters(new ReplicaError(ErrorCode.KAFKA_STORAGE_ERROR, `partition ${this.options.dir}: ${(err as Error).message}`))
    } finally {
      this.pumping = false
    }
  }

  private async execute(rd: Ready, appends: Array<{ logEnd: number; epochStarts: EpochStart[] }>): Promise<void> {
    if (rd.quorumState !== null) {
      await writeFileAtomic(this.fs, join(this.options.dir, QUORUM_STATE_FILE), new TextEncoder().encode(JSON.stringify(rd.quorumState)))
    }
    for (const d of rd.directives) await this.executeDirective(d, appends)
    for (const m of rd.messages) this.options.send?.(m)
    if (rd.leadership !== null) {
      this.leadership = rd.leadership
      if (rd.leadership.role !== 'leader') {
        this.failWaiters(new ReplicaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'leadership moved', rd.leadership.leaderId))
      }
    }
    if (rd.highWatermark !== null) this.advanceHighWatermark(rd.highWatermark)
  }

  private async executeDirective(d: Directive, appends: Array<{ logEnd: number; epochStarts: EpochStart[] }>): Promise<void> {
    switch (d.kind) {
      case 'appendLeaderChange': {
        const info = await this.log.appendAsLeader(this.leaderChangeBatch(d.epoch, d.voters), d.epoch)
        appends.push({ logEnd: info.nextOffset, epochStarts: [{ epoch: d.epoch, startOffset: info.firstOffset }] })
        return
      }
      case 'appendFetched': {
        const before = this.log.logEndOffset
        const info = await this.log.appendAsFollower(d.records as Uint8Array)
        // Epochs that begin inside the appended range, as the log's epoch cache recorded them.
        const epochStarts = this.log.epochEntries().filter((e) => e.startOffset >= before).map((e) => ({ epoch: e.epoch, startOffset: e.startOffset }))
        appends.push({ logEnd: info.nextOffset, epochStarts })
        return
      }
      case 'attachRecords':
        d.response.records = (await this.log.read(d.fromOffset, d.maxBytes)).bytes
        return
      case 'truncate':
        await this.log.truncateTo(d.offset)
        return
      case 'resetLog':
        // Single-voter groups never reset. Replication must also persist d.logStartEpoch and
        // d.voters with the log start (the LogView gives them back at open).
        await this.log.truncateFullyAndStartAt(d.logStart, d.logStartEpoch)
        return
      case 'appendVoters':
      case 'attachSnapshotChunk':
      case 'writeSnapshotChunk':
      case 'installSnapshot':
        // Data partitions have no snapshots, and the broker offers no voter changes yet.
        throw new Error(`partition replicas do not carry out ${d.kind}`)
    }
  }

  /** A LeaderChange control batch (Kafka's control type 2): opens the epoch in the log. */
  private leaderChangeBatch(epoch: number, voters: readonly NodeId[]): Uint8Array {
    const key = new Uint8Array([0, 0, 0, 2]) // control record key: version 0, type LEADER_CHANGE
    const value = new TextEncoder().encode(JSON.stringify({ version: 0, leaderId: this.options.nodeId, epoch, voters }))
    return this.codec.encodeBatch([{ key, value }], { control: true, partitionLeaderEpoch: epoch })
  }

  /** When the log has flushed past `offset`, tell the core (its HW counts flushed data only). */
  private trackFlush(offset: number): void {
    this.log.waitForFlush(offset).then(
      () => this.input(() => this.core.flushed(this.log.flushedOffset)),
      () => undefined, // a failed fsync fails the log; its waiters see the error on append
    )
  }

  private advanceHighWatermark(hw: number): void {
    if (hw <= this.hw) return
    this.hw = hw
    const ready = this.hwWaiters.filter((w) => w.offset <= hw)
    if (ready.length > 0) this.hwWaiters = this.hwWaiters.filter((w) => w.offset > hw)
    for (const w of ready) w.resolve()
    for (const listener of this.hwListeners) listener()
  }

  private failWaiters(err: ReplicaError): void {
    const waiters = this.hwWaiters
    this.hwWaiters = []
    for (const w of waiters) w.reject(err)
  }
}
