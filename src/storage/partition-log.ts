// The partition log: an ordered list of segments in one directory, the last one active.
// It is what the replicated log (src/raft's shell) and the broker call. Mutations (appends,
// truncation, retention, compaction swaps) run one at a time through `exclusive`; fsyncs run
// beside them (group commit), and `flushedOffset` says what a power cut cannot take away.
import { join } from 'node:path'
import {
  CodecError, loadCodec, readBatchHeader, splitBatches, stampBatch, type BatchHeader, type Codec,
} from '../codec/index.js'
import { writeDurably } from './atomic-file.js'
import { checkCrc, checkFraming } from './batch-check.js'
import { writeCleanShutdown } from './clean-shutdown.js'
import { compact, type CleanerHost, type CompactionResult } from './compaction.js'
import { Coalescer } from './coalescer.js'
import { resolveConfig, type LogConfig } from './config.js'
import type { EpochCache, EpochEnd, EpochStart } from './epoch-cache.js'
import { saveEpochCache } from './epoch-checkpoint.js'
import { assert, StorageError } from './errors.js'
import type { FileLayer } from './file-layer.js'
import {
  READ_BYTES_MAX, READ_HEADROOM_BYTES_MAX, RECOVERY_POINT_INTERVAL_BYTES, SEGMENT_RELATIVE_OFFSET_MAX, UNREADABLE_RANGES_MAX,
} from './limits.js'
import { saveLogStart } from './log-start-checkpoint.js'
import { NodeFileLayer } from './node-file-layer.js'
import { recoverLog, type CorruptRange, type RecoveryReport } from './recovery.js'
import { RECOVERY_POINT_FILE, writeRecoveryPoint, type RecoveryPoint } from './recovery-point.js'
import { walkBatches } from './scan.js'
import { planRetention } from './retention.js'
import { INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX } from './segment.js'
import { Serial } from './serial.js'
import { systemTimers, type Timers } from './timers.js'

export interface OpenLogOptions {
  dir: string
  config?: Partial<LogConfig>
  /** Defaults to the real file system. */
  fs?: FileLayer
  /** Defaults to the shared codec (loadCodec()). */
  codec?: Codec
  /** Milliseconds since the epoch; injected so tests control roll and retention by time (default: timers.now). */
  clock?: () => number
  /**
   * Scheduling of group-commit fsyncs (and the clock's default); a simulator injects virtual ones.
   * flush=interval still uses a real interval timer.
   */
  timers?: Timers
}

export interface AppendInfo {
  firstOffset: number
  /** Last offset appended (inclusive). */
  lastOffset: number
  /** The log end after the append (exclusive). */
  nextOffset: number
  maxTimestamp: number
  batches: number
  bytes: number
}

export interface ReadResult {
  /**
   * Whole stored batches, byte for byte as appended; empty at the log end. Unless empty, they
   * start `headroomBytes` (the read option) into a buffer of their own (or the one lent): the
   * reader may write there, e.g. a frame's header, to send them without a copy.
   */
  bytes: Uint8Array
  /** Where the next read should start. */
  nextOffset: number
}

export interface LogStats {
  segments: number
  sizeBytes: number
  fsyncs: number
  /** Corrupt ranges found (recovery and reads): a counter for metrics. */
  corruptionsDetected: number
}

/** What one `verify` step checked (a scrub or a check before a campaign). */
export interface VerifyResult {
  /** Batch bytes CRC-checked by this step. */
  checkedBytes: number
  /** Every batch of the log has been checked since it was opened (or written). */
  done: boolean
  /** The first bad batch found by this step (also reported to `onDamage` listeners), or null. */
  damage: CorruptRange | null
}

export interface RetentionResult {
  deletedSegments: number
  deletedBytes: number
}

export class PartitionLog {
  private flushed: number
  /** A truncation is closing files and removing offsets: fsyncs asked for now are skipped. */
  private truncationRunning = false
  /** Mutations, one at a time (bounded by their callers: a replica's input queue, the cleaner). */
  private readonly mutations = new Serial(Number.POSITIVE_INFINITY)
  private failure: StorageError | null = null
  private closed = false
  private epochDirty = false
  private readonly waiters: Array<{ offset: number; resolve: () => void; reject: (e: Error) => void }> = []
  private readonly groupCommit = new Coalescer(() => this.flushTask())
  private readonly epochSaver = new Coalescer(() => this.saveEpochs())
  private timer: ReturnType<typeof setInterval> | null = null
  private fsyncs = 0
  private flushScheduled = false
  /** A running compaction pass: segment removals wait for it (it rewrites closed segments). */
  private compaction: Promise<CompactionResult> | null = null
  private corruptionsDetected: number
  private readonly corrupt: CorruptRange[]
  private readonly damageListeners = new Set<(range: CorruptRange) => void>()
  /**
   * Opened from a clean-shutdown marker, whose removal is not durable yet: the first mutation
   * syncs the directory first (a power cut must not bring the marker back over new writes).
   */
  private markerRemovalPending: boolean
  /** Opened from a clean-shutdown marker and not mutated since: the files it trusted still describe the log. */
  private untouchedSinceCleanOpen: boolean
  /** The last recovery point this log wrote (null: none since open; one from before may be on disk). */
  private recoveryPoint: RecoveryPoint | null = null

  private constructor(
    readonly dir: string,
    readonly config: LogConfig,
    private readonly fs: FileLayer,
    readonly codec: Codec,
    private readonly clock: () => number,
    private readonly timers: Timers,
    /** @internal ordered, the last is active; compaction swaps entries in place. */
    readonly segments: Segment[],
    private logStart: number,
    private readonly epochs: EpochCache,
    readonly recovery: RecoveryReport,
  ) {
    this.flushed = this.logEndOffset
    this.corrupt = recovery.corrupt.slice()
    this.corruptionsDetected = recovery.corrupt.length
    this.markerRemovalPending = this.untouchedSinceCleanOpen = recovery.cleanShutdown
  }

  static async open(options: OpenLogOptions): Promise<PartitionLog> {
    const config = resolveConfig(options.config)
    const fs = options.fs ?? new NodeFileLayer()
    const codec = options.codec ?? (await loadCodec())
    const timers = options.timers ?? systemTimers
    const clock = options.clock ?? (() => timers.now())
    const r = await recoverLog({ fs, codec, dir: options.dir, indexIntervalBytes: config.indexIntervalBytes, nowMs: clock() })
    const lastEnd = r.segments.length === 0 ? -1 : r.segments[r.segments.length - 1].nextOffset
    const emptied = r.logStartOffset > lastEnd
    if (emptied) {
      // No segment, or the start was moved past what survived (deleteRecordsBefore, then a
      // crash that cut the unflushed tail): begin an empty log at the start.
      fs.remove(join(options.dir, RECOVERY_POINT_FILE)) // it named a segment now gone (durable with the removals)
      for (const s of r.segments.splice(0).reverse()) await removeSegmentFiles(fs, s)
      r.segments.push(Segment.create(fs, options.dir, r.logStartOffset, config.indexIntervalBytes, clock()))
      r.epochCache.truncateFrom(0)
      r.epochCacheDirty = r.epochCacheMustSave = true // entries dropped: saved before any append
    }
    // A cut may fall below the recovery point (damage under it): appends would then be trusted
    // there. Its removal is durable with the directory fsync below.
    if (r.report.truncatedBytes > 0) fs.remove(join(options.dir, RECOVERY_POINT_FILE))
    const crc = (b: Uint8Array) => codec.crc32c(b)
    if (r.logStartDirty) await saveLogStart(fs, options.dir, { offset: r.logStartOffset, epoch: r.epochCache.logStartEpoch }, crc)
    // After a clean shutdown nothing was cut and everything is durable since the close: no fsync,
    // unless the open itself wrote (which also makes the marker's removal durable).
    const wrote = emptied || r.logStartDirty
    if (!r.report.cleanShutdown || wrote) {
      await r.segments[r.segments.length - 1].file.sync()
      await fs.syncDir(options.dir) // what recovery saw (and any cut tail) is now durable
    }
    const log = new PartitionLog(options.dir, config, fs, codec, clock, timers, r.segments, r.logStartOffset, r.epochCache, r.report)
    if (wrote) log.markerRemovalPending = log.untouchedSinceCleanOpen = false
    // Epochs recovery only added from the active segment are found there again by the next
    // recovery: saved with the next roll or truncation, not now (a restart of many partitions
    // would pay two fsyncs each for nothing).
    if (log.clampEpochs() || r.epochCacheMustSave) {
      log.epochDirty = true
      await log.epochSaver.run()
    } else if (r.epochCacheDirty) log.epochDirty = true
    if (config.flush === 'interval') {
      log.timer = setInterval(() => log.requestFlush(), config.flushIntervalMs)
      log.timer.unref()
    }
    return log
  }

  get logStartOffset(): number {
    return this.logStart
  }

  /** Offset the next append gets (exclusive end of the log). */
  get logEndOffset(): number {
    return this.active.nextOffset
  }

  /** Base offset of the active segment: it moves on when the log rolls (producer state snapshots are taken then). */
  get activeSegmentBaseOffset(): number {
    return this.active.baseOffset
  }

  /** Everything below this offset is durable (exclusive). Replication counts only this. */
  get flushedOffset(): number {
    return this.flushed
  }

  /** Epoch of the last record (for an empty log, of the record below its start; 0: none). */
  get latestEpoch(): number {
    return this.epochs.latestEpoch()
  }

  /** Epoch of the record just below the log start (0 when nothing was ever below it). */
  get logStartEpoch(): number {
    return this.epochs.logStartEpoch
  }

  epochEntries(): readonly EpochStart[] {
    return this.epochs.entries
  }

  /** Epoch of the record at `offset` (>= log start - 1). */
  epochAt(offset: number): number {
    return this.epochs.epochAt(offset)
  }

  /** Kafka's OffsetsForLeaderEpoch: the largest epoch <= `epoch` and where it ends (null: below the log start's epoch). */
  endOffsetForEpoch(epoch: number): EpochEnd | null {
    return this.epochs.endOffsetFor(epoch, this.logEndOffset)
  }

  /** Damaged ranges found so far (never served; truncating below them heals the log). */
  unreadableRanges(): readonly CorruptRange[] {
    return this.corrupt
  }

  /**
   * Called (synchronously) for each damaged range found from now on: by a read, `verify`, or a
   * scrub. The ones recovery found are in `unreadableRanges()` already.
   */
  onDamage(listener: (range: CorruptRange) => void): () => void {
    this.damageListeners.add(listener)
    return () => this.damageListeners.delete(listener)
  }

  /** False while some batch was never CRC-checked since open (closed segments loaded with their index). */
  get fullyVerified(): boolean {
    return this.segments.every((s) => s.verifiedTo >= Math.min(s.size, s.unreadableFrom))
  }

  /**
   * CRC-checks up to about `maxBytes` of batches not yet verified, oldest first, and stops at
   * the first bad one (recorded as unreadable, as a read would). A scrub calls it a chunk at a
   * time; a check before a campaign calls it until `done` or `damage`. Runs between mutations.
   */
  async verify(maxBytes: number): Promise<VerifyResult> {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new StorageError('INVALID_ARGUMENT', `maxBytes ${maxBytes} is not a safe integer >= 1`)
    return this.serialized(async () => {
      let checkedBytes = 0
      for (let i = 0; i < this.segments.length && checkedBytes < maxBytes; i++) {
        const seg = this.segments[i]
        const limit = Math.min(seg.size, seg.unreadableFrom)
        if (seg.verifiedTo >= limit) continue
        const from = seg.verifiedTo
        const walk = walkBatches(seg.file, from, limit, this.offsetAtPosition(seg, from), (b) => {
          if (checkedBytes > 0 && checkedBytes + b.header.sizeBytes > maxBytes) return 'budget' // not a failure: resume here
          const checked = checkCrc(this.codec, b.bytes)
          return typeof checked === 'string' ? checked : undefined
        })
        let next = walk.next()
        for (; !next.done; next = walk.next()) {
          checkedBytes += next.value.header.sizeBytes
          seg.verifiedTo = next.value.position + next.value.header.sizeBytes
        }
        const end = next.value
        if (end.error === undefined || end.error.endsWith(': budget')) continue
        this.markCorrupt(i, end.endPosition, end.nextOffset, end.error)
        return { checkedBytes, done: false, damage: this.corruptRangeAt(end.nextOffset) ?? null }
      }
      return { checkedBytes, done: this.fullyVerified, damage: null }
    })
  }

  /** Offset of the batch at `position` (a batch boundary): read from the headers before it. */
  private offsetAtPosition(seg: Segment, position: number): number {
    const h = seg.headerAt(position)
    if (typeof h !== 'string') return h.baseOffset
    let offset = seg.baseOffset
    let at = 0
    while (at < position) {
      const before = seg.headerAt(at)
      assert(typeof before !== 'string', 'batches below verifiedTo were checked')
      offset = before.nextOffset
      at += before.sizeBytes
    }
    return offset
  }

  stats(): LogStats {
    let sizeBytes = 0
    for (const s of this.segments) sizeBytes += s.size
    return { segments: this.segments.length, sizeBytes, fsyncs: this.fsyncs, corruptionsDetected: this.corruptionsDetected }
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]
  }

  // ---------------------------------------------------------------- appends

  /**
   * Appends a producer's batches (one or more, concatenated) as leader: validates each fully,
   * stamps baseOffset and `leaderEpoch` into the caller's bytes in place (both lie outside the
   * CRC) and writes them. Resolves once written, not flushed: see waitForFlush.
   * `prevalidated`: the caller (the broker's produce path) already ran codec.validateBatch on
   * these bytes, so only the framing is re-checked; full validation costs about as much as
   * the write itself (docs/storage.md, benchmark).
   */
  async appendAsLeader(batches: Uint8Array, leaderEpoch: number, options: { prevalidated?: boolean } = {}): Promise<AppendInfo> {
    const check = options.prevalidated === true ? framingOnly : (b: Uint8Array) => this.codec.validateBatch(b, { contiguous: true })
    const { headers, ranges } = this.splitChecked(batches, check)
    if (!Number.isInteger(leaderEpoch) || leaderEpoch < 0) {
      throw new StorageError('INVALID_ARGUMENT', `leader epoch ${leaderEpoch} is not an integer >= 0`)
    }
    return this.exclusive(async () => {
      if (leaderEpoch < this.epochs.latestEpoch()) {
        throw new StorageError('INVALID_ARGUMENT', `leader epoch ${leaderEpoch} is older than the log's latest epoch ${this.epochs.latestEpoch()}`)
      }
      let offset = this.logEndOffset
      for (let i = 0; i < headers.length; i++) {
        stampBatch(batches, offset, leaderEpoch, ranges[i][0])
        headers[i] = readBatchHeader(batches, ranges[i][0])
        offset = headers[i].nextOffset
      }
      if (this.epochs.assign(leaderEpoch, headers[0].baseOffset)) this.epochDirty = true
      return this.write(batches, headers, ranges)
    })
  }

  /**
   * Appends a leader's batches exactly as received. The first must start at the log end
   * (`allowGap`: at or after it, for compacted leaders whose logs have offset gaps); offsets
   * and epochs must not go back. Checks framing and CRC (the bytes are the ones the leader stored),
   * not the records section again: the leader validated it when it took the batch, and the CRC
   * covers it (as Kafka's follower only checks ensureValid; the walk was ~5 % of a follower's CPU).
   * Never rewrites a byte.
   */
  async appendAsFollower(batches: Uint8Array, options: { allowGap?: boolean } = {}): Promise<AppendInfo> {
    const { headers, ranges } = this.splitChecked(batches, (b) => {
      const h = checkCrc(this.codec, b)
      if (typeof h === 'string') throw new StorageError('INVALID_BATCH', `follower batch is invalid: ${h}`)
      return h
    })
    return this.exclusive(async () => {
      let expected = this.logEndOffset
      let epoch = this.epochs.latestEpoch()
      for (const h of headers) {
        const ok = options.allowGap === true ? h.baseOffset >= expected : h.baseOffset === expected
        if (!ok) {
          throw new StorageError('OFFSET_MISMATCH', `follower batch starts at offset ${h.baseOffset}, expected ${options.allowGap === true ? '>= ' : ''}${expected}`)
        }
        if (h.partitionLeaderEpoch < epoch) {
          throw new StorageError('INVALID_BATCH', `follower batch at ${h.baseOffset} has epoch ${h.partitionLeaderEpoch}, older than ${epoch}`)
        }
        expected = h.nextOffset
        epoch = h.partitionLeaderEpoch
      }
      for (const h of headers) if (this.epochs.assign(h.partitionLeaderEpoch, h.baseOffset)) this.epochDirty = true
      return this.write(batches, headers, ranges)
    })
  }

  /** Splits concatenated batches and checks each (sizes against the segment too). */
  private splitChecked(
    batches: Uint8Array, check: (b: Uint8Array) => BatchHeader,
  ): { headers: BatchHeader[]; ranges: Array<[number, number]> } {
    this.assertWritable()
    let ranges: Array<[number, number]>
    const headers: BatchHeader[] = []
    try {
      ranges = splitBatches(batches)
      for (const [start, end] of ranges) headers.push(check(batches.subarray(start, end)))
    } catch (err) {
      if (err instanceof CodecError) throw new StorageError('INVALID_BATCH', `batch rejected: ${err.message}`, { cause: err })
      throw err
    }
    if (ranges.length === 0) throw new StorageError('INVALID_ARGUMENT', 'append needs at least one batch')
    for (const h of headers) {
      if (h.sizeBytes > this.config.segmentBytes) {
        throw new StorageError('BATCH_TOO_LARGE', `batch of ${h.sizeBytes} bytes does not fit a ${this.config.segmentBytes}-byte segment`)
      }
    }
    return { headers, ranges }
  }

  /** Writes checked batches to the active segment, rolling where a batch would not fit. */
  private async write(bytes: Uint8Array, headers: BatchHeader[], ranges: Array<[number, number]>): Promise<AppendInfo> {
    let from = 0
    let maxTimestamp = -1
    while (from < headers.length) {
      if (this.shouldRoll(headers[from])) await this.rollNow()
      const seg = this.active
      let to = from + 1
      let room = this.config.segmentBytes - seg.size - headers[from].sizeBytes
      while (to < headers.length && headers[to].sizeBytes <= room && !this.offsetOverflows(seg, headers[to])) {
        room -= headers[to].sizeBytes
        to++
      }
      const start = ranges[from][0]
      const part = ranges.slice(from, to).map(([s, e]): [number, number] => [s - start, e - start])
      try {
        seg.append(bytes.subarray(start, ranges[to - 1][1]), headers.slice(from, to), part)
      } catch (cause) {
        throw this.fail('write failed', cause)
      }
      for (let i = from; i < to; i++) maxTimestamp = Math.max(maxTimestamp, headers[i].maxTimestamp)
      from = to
    }
    if (this.config.flush === 'always') this.requestFlush()
    const last = headers[headers.length - 1]
    return {
      firstOffset: headers[0].baseOffset, lastOffset: last.nextOffset - 1, nextOffset: this.logEndOffset,
      maxTimestamp, batches: headers.length, bytes: bytes.length,
    }
  }

  private offsetOverflows(seg: Segment, h: BatchHeader): boolean {
    return h.nextOffset - seg.baseOffset > SEGMENT_RELATIVE_OFFSET_MAX
  }

  private shouldRoll(next: BatchHeader): boolean {
    const seg = this.active
    if (seg.size === 0) return false
    return seg.size + next.sizeBytes > this.config.segmentBytes ||
      this.clock() - seg.createdMs >= this.config.segmentMs ||
      this.offsetOverflows(seg, next)
  }

  /** Closes the active segment and starts a new one (no-op when the active one is empty). */
  async roll(): Promise<void> {
    return this.exclusive(() => this.rollNow())
  }

  private async rollNow(): Promise<void> {
    const old = this.active
    if (old.size === 0) return
    try {
      await old.file.sync()
      this.fsyncs++
      const { index, timeIndex } = old.encodeIndexes()
      await this.writeDurably(old.path(INDEX_SUFFIX), index)
      await this.writeDurably(old.path(TIME_INDEX_SUFFIX), timeIndex)
      // Closed segments' epochs are on disk before the next segment exists, even in the page
      // cache (recovery scans only the last segment: a save that failed after the new file was
      // created left the old one's epochs in no checkpoint). A save already running is awaited.
      if (this.epochDirty) await this.epochSaver.run()
      else await this.epochSaver.idle()
      const seg = Segment.create(this.fs, this.dir, old.nextOffset, this.config.indexIntervalBytes, this.clock())
      await this.fs.syncDir(this.dir)
      this.fsyncs++
      this.segments.push(seg)
    } catch (cause) {
      throw this.fail('roll failed', cause)
    }
    this.flushed = Math.max(this.flushed, old.nextOffset)
    this.notifyWaiters()
  }

  private async writeDurably(path: string, bytes: Uint8Array): Promise<void> {
    await writeDurably(this.fs, path, bytes)
    this.fsyncs++
  }

  // ---------------------------------------------------------------- durability

  /**
   * Starts (or joins) a group-commit fsync. The start waits for setImmediate so that every
   * append made in this turn of the event loop (e.g. the appenders just woken by the previous
   * fsync) shares it, instead of the first one taking an fsync alone.
   */
  private requestFlush(): void {
    if (this.flushScheduled || this.flushed >= this.logEndOffset) return
    this.flushScheduled = true
    this.timers.soon(() => {
      this.flushScheduled = false
      if (this.closed) return
      this.groupCommit.run().catch(() => undefined) // failures reach waiters through fail()
    })
  }

  /** fsyncs now (sharing an fsync already queued); resolves with the flushed offset. */
  async flush(): Promise<number> {
    this.assertOpen()
    await this.groupCommit.run()
    return this.flushed
  }

  /** Resolves once everything below `offset` is durable (with flush=interval: next tick). */
  waitForFlush(offset: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure)
    if (offset <= this.flushed) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.waiters.push({ offset, resolve, reject })
      if (this.config.flush === 'always') this.requestFlush()
      else this.timer?.ref() // someone waits for the interval flush: keep the process alive
    })
  }

  private async flushTask(): Promise<void> {
    if (this.truncationRunning) return // it syncs what it keeps (see truncating)
    const target = this.logEndOffset
    // The epoch checkpoint is not saved here: an epoch that starts in the active segment is
    // read back from its batches by recovery (which scans that segment after any stop), and the
    // checkpoint is saved before a segment closes (roll) and with every change that removes
    // entries (truncation, reset, a moved start). Saving it with each flush cost two fsyncs per
    // new epoch per partition: most of a restart's fsyncs with many partitions (issue 18).
    const seg = this.active
    const position = seg.size // what the fsync below covers (written before it starts)
    try {
      await seg.file.sync()
      this.fsyncs++
    } catch (cause) {
      throw this.fail('fsync failed', cause)
    }
    this.flushed = Math.max(this.flushed, Math.min(target, this.logEndOffset))
    this.notifyWaiters()
    this.maybeWriteRecoveryPoint(seg, position, target)
  }

  /** After an fsync that covered `seg` up to `position` (offset `offset`): see recovery-point.ts. */
  private maybeWriteRecoveryPoint(seg: Segment, position: number, offset: number): void {
    const last = this.recoveryPoint
    const since = last === null || last.segmentBaseOffset !== seg.baseOffset ? position : position - last.position
    // Rolled meanwhile: the point would name a closed segment. (A truncation waits for this fsync.)
    if (seg !== this.active || since < RECOVERY_POINT_INTERVAL_BYTES) return
    const point = { segmentBaseOffset: seg.baseOffset, position, offset }
    try {
      writeRecoveryPoint(this.fs, this.dir, point, (b) => this.codec.crc32c(b))
      this.recoveryPoint = point
    } catch {
      // Without a (whole) point a crash's recovery validates the whole active segment: slower, never wrong.
    }
  }

  private async saveEpochs(): Promise<void> {
    this.epochDirty = false
    try {
      await saveEpochCache(this.fs, this.dir, this.epochs, (b) => this.codec.crc32c(b))
    } catch (err) {
      this.epochDirty = true
      throw err
    }
  }

  private notifyWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].offset <= this.flushed) {
        this.waiters[i].resolve()
        this.waiters.splice(i, 1)
      }
    }
    if (this.waiters.length === 0) this.timer?.unref()
  }

  /** Marks the log failed: after a failed write or fsync its durable state is unknown. */
  private fail(what: string, cause: unknown): StorageError {
    if (cause instanceof StorageError && cause.code === 'IO_FAILED') return cause
    this.failure ??= new StorageError('IO_FAILED', `${this.dir}: ${what}: ${(cause as Error)?.message ?? cause}; reopen the log`, { cause })
    for (const w of this.waiters.splice(0)) w.reject(this.failure)
    return this.failure
  }

  // ---------------------------------------------------------------- reads

  /**
   * Whole batches from the one holding `fromOffset`: the first even if larger than maxBytes,
   * then as many as fit, across segments, none ending past `maxOffset` (consumers pass the
   * high watermark). Bytes whose CRC fails are never served (CORRUPT_DATA if nothing else).
   * `headroomBytes`: free bytes to leave before them in their buffer (see ReadResult).
   * `buffer`: one the caller lends for them, used when they and the headroom fit (they are
   * then a view into it, and it must not be reused while they are in use).
   */
  async read(
    fromOffset: number, maxBytes: number, options: { maxOffset?: number; headroomBytes?: number; buffer?: Uint8Array } = {},
  ): Promise<ReadResult> {
    this.assertOpen()
    if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > READ_BYTES_MAX) {
      throw new StorageError('INVALID_ARGUMENT', `maxBytes ${maxBytes} is outside [1, ${READ_BYTES_MAX}]`)
    }
    const headroom = options.headroomBytes ?? 0
    if (!Number.isInteger(headroom) || headroom < 0 || headroom > READ_HEADROOM_BYTES_MAX) {
      throw new StorageError('INVALID_ARGUMENT', `headroomBytes ${headroom} is outside [0, ${READ_HEADROOM_BYTES_MAX}]`)
    }
    const maxOffset = Math.min(options.maxOffset ?? Number.POSITIVE_INFINITY, this.logEndOffset)
    this.checkReadable(fromOffset)
    const parts: Uint8Array[] = []
    let offset = fromOffset
    let budget = maxBytes
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length && offset < maxOffset; i++) {
      const seg = this.segments[i]
      const found = seg.locate(offset)
      if (found === null) {
        if (seg.unreadableFrom < seg.size) break // the rest of this segment is fenced off
        continue
      }
      if ('corruptAt' in found) {
        this.markCorrupt(i, found.corruptAt, offset, found.reason)
        break
      }
      if (found.header.nextOffset > maxOffset) break
      const verify = this.config.verifyReads ? this.codec : null
      const first = parts.length === 0
      const r = seg.readFrom(found.position, found.header, budget, first, maxOffset, verify, headroom, first ? options.buffer : undefined)
      if (r.bytes.length > 0) parts.push(r.bytes)
      offset = r.nextOffset
      budget -= r.bytes.length
      if (r.corruptAt !== undefined) {
        this.markCorrupt(i, r.corruptAt.position, r.corruptAt.offset, r.corruptAt.reason)
        break
      }
      if (budget <= 0 || found.position + r.bytes.length < seg.size) break // stopped inside this segment
    }
    if (parts.length === 0 && offset < maxOffset && this.corruptRangeAt(offset) !== undefined) this.checkReadable(offset)
    return { bytes: concat(parts, headroom), nextOffset: offset }
  }

  private checkReadable(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this.logStart || offset > this.logEndOffset) {
      throw new StorageError('OFFSET_OUT_OF_RANGE', `offset ${offset} is outside the log [${this.logStart}, ${this.logEndOffset}]`)
    }
    const bad = this.corruptRangeAt(offset)
    if (bad !== undefined) {
      throw new StorageError('CORRUPT_DATA', `offsets [${bad.startOffset}, ${bad.endOffset}) are unreadable (${bad.reason}); re-replicate them`)
    }
  }

  private corruptRangeAt(offset: number): CorruptRange | undefined {
    return this.corrupt.find((r) => offset >= r.startOffset && offset < r.endOffset)
  }

  /** Index of the last segment whose base is <= offset (0 if none). */
  private segmentIndexFor(offset: number): number {
    let lo = 0
    let hi = this.segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.segments[mid].baseOffset <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  private markCorrupt(segmentIndex: number, position: number, offset: number, reason: string): void {
    const seg = this.segments[segmentIndex]
    seg.unreadableFrom = Math.min(seg.unreadableFrom, position)
    const next = this.segments[segmentIndex + 1]
    const endOffset = next === undefined ? this.logEndOffset : next.baseOffset
    if (this.corruptRangeAt(offset) !== undefined) return
    if (this.corrupt.length >= UNREADABLE_RANGES_MAX) this.corrupt.shift()
    const range = { startOffset: offset, endOffset, segmentBaseOffset: seg.baseOffset, reason }
    this.corrupt.push(range)
    this.corruptionsDetected++
    for (const listener of this.damageListeners) listener(range)
  }

  /**
   * The first offset whose batch has a timestamp >= `timestamp` (Kafka's ListOffsets by time):
   * the record's offset for uncompressed batches, the batch's base offset otherwise. Null if
   * every record is older.
   */
  async offsetForTimestamp(timestamp: number): Promise<{ offset: number; timestamp: number } | null> {
    this.assertOpen()
    for (let i = this.segmentIndexFor(this.logStart); i < this.segments.length; i++) {
      const seg = this.segments[i]
      if (seg.maxTimestamp < timestamp) continue
      let found = seg.locate(Math.max(seg.timeIndex.lookup(timestamp), this.logStart))
      while (found !== null && !('corruptAt' in found)) {
        if (found.header.maxTimestamp >= timestamp) return this.recordAtOrAfter(seg, found.position, found.header, timestamp)
        found = seg.locate(found.header.nextOffset)
      }
    }
    return null
  }

  private recordAtOrAfter(seg: Segment, position: number, h: BatchHeader, timestamp: number): { offset: number; timestamp: number } {
    const fallback = { offset: Math.max(h.baseOffset, this.logStart), timestamp: h.maxTimestamp }
    if (h.compression !== 'none') return fallback
    const bytes = new Uint8Array(h.sizeBytes)
    seg.file.read(bytes, position)
    try {
      const { records } = this.codec.decodeBatch(bytes, { contiguous: false })
      const r = records.find((rec) => rec.timestamp >= timestamp && rec.offset >= this.logStart)
      return r === undefined ? fallback : { offset: r.offset, timestamp: r.timestamp }
    } catch {
      return fallback // a corrupt batch: reads will report it
    }
  }

  // ---------------------------------------------------------------- truncation and retention

  /**
   * Removes everything at or past `offset` (a follower's divergent tail): batches straddling it
   * go whole. Durable when it resolves; the epoch cache follows.
   */
  async truncateTo(offset: number): Promise<void> {
    return this.exclusive(async () => {
      if (offset >= this.logEndOffset) return
      if (offset < this.logStart) {
        throw new StorageError('OFFSET_OUT_OF_RANGE', `cannot truncate to ${offset}, below the log start ${this.logStart}`)
      }
      await this.truncating(async () => {
        try {
          await this.dropRecoveryPoint()
          while (this.segments.length > 1 && this.active.baseOffset >= offset) {
            await removeSegmentFiles(this.fs, this.segments.pop()!) // newest first: no holes
          }
          this.active.truncateTo(offset)
          await this.active.file.sync()
          this.fsyncs++
        } catch (cause) {
          throw this.fail('truncate failed', cause)
        }
        this.flushed = this.logEndOffset // the sync above covered the whole active segment
      })
      if (this.logEndOffset < this.logStart) {
        // The cut took a batch that straddles the log start: nothing readable is left.
        return this.resetTo(this.logStart, this.epochs.logStartEpoch)
      }
      this.clipCorruptRanges(this.logEndOffset)
      if (this.epochs.truncateFrom(this.logEndOffset)) {
        this.epochDirty = true
        await this.epochSaver.run()
      }
    })
  }

  /**
   * Removes the recovery point, durably, before a truncation shrinks the active segment below it
   * (appends after that could be torn where the point says an fsync covered the bytes).
   */
  private async dropRecoveryPoint(): Promise<void> {
    const path = join(this.dir, RECOVERY_POINT_FILE)
    if (!this.fs.exists(path)) return
    this.fs.remove(path)
    await this.fs.syncDir(this.dir)
    this.fsyncs++
    this.recoveryPoint = null
  }

  /**
   * Runs `work`, which closes files or removes offsets and makes what it keeps durable itself,
   * once the group-commit fsync running now (and compaction) is done. An fsync asked for from
   * then on is skipped (flushTask): it could sync a file `work` is about to close (EBADF) or
   * count offsets `work` removes. Waiting for the fsyncs alone is not enough: requestFlush
   * starts one from setImmediate, which can fire at any await inside `work`.
   */
  private async truncating(work: () => Promise<void>): Promise<void> {
    await this.groupCommit.idle()
    this.truncationRunning = true // before any other turn of the event loop: no fsync starts in between
    try {
      await this.compactionIdle()
      await work()
    } finally {
      this.truncationRunning = false
    }
    this.notifyWaiters() // a skipped fsync's waiters, for what the truncation made durable
  }

  /**
   * Empties the log and restarts it at `offset`, after a record of epoch `logStartEpoch` (a
   * follower behind the leader's log start). Durable when it resolves; a crash on the way leaves
   * either an empty log at the old start or the new empty log, never old records at the new one.
   */
  async truncateFullyAndStartAt(offset: number, logStartEpoch: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new StorageError('INVALID_ARGUMENT', `offset ${offset} is not a safe integer >= 0`)
    if (!Number.isSafeInteger(logStartEpoch) || logStartEpoch < 0) {
      throw new StorageError('INVALID_ARGUMENT', `log start epoch ${logStartEpoch} is not a safe integer >= 0`)
    }
    return this.exclusive(() => this.resetTo(offset, logStartEpoch))
  }

  /** Deletes every segment and starts an empty log at `offset` after a record of `epoch`, durably. */
  private async resetTo(offset: number, epoch: number): Promise<void> {
    const crc = (b: Uint8Array) => this.codec.crc32c(b)
    await this.truncating(async () => {
      try {
        await this.dropRecoveryPoint()
        // 1. Empty the log where it stands (newest first, each durable): no old record may
        // survive a crash once the new start is on disk.
        while (this.segments.length > 1) await removeSegmentFiles(this.fs, this.segments.pop()!)
        const old = this.segments[0]
        old.file.truncate(0)
        await old.file.sync()
        if (this.epochs.truncateFrom(old.baseOffset)) await saveEpochCache(this.fs, this.dir, this.epochs, crc)
        // 2. The new start and its epoch, in one atomic write: from here a crash reopens the new log.
        await saveLogStart(this.fs, this.dir, { offset, epoch }, crc)
        // 3. The new active segment. The list is never empty (readers and the flush timer use it).
        for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) this.fs.remove(old.path(suffix))
        this.segments[0] = Segment.create(this.fs, this.dir, offset, this.config.indexIntervalBytes, this.clock())
        old.file.close() // unlinked above; its handle stayed valid until the swap
        await this.fs.syncDir(this.dir)
      } catch (cause) {
        throw this.fail('truncate failed', cause)
      }
      this.flushed = offset
    })
    this.logStart = offset
    this.corrupt.length = 0
    this.epochs.reset(epoch)
    this.epochDirty = true
    await this.epochSaver.run()
  }

  /**
   * Moves the log start to `offset` (Kafka's DeleteRecords; the caller keeps it <= the high
   * watermark) and deletes the closed segments wholly below it. Durable when it resolves.
   */
  async deleteRecordsBefore(offset: number): Promise<void> {
    return this.exclusive(async () => {
      if (!Number.isSafeInteger(offset) || offset > this.logEndOffset) {
        throw new StorageError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}: the log ends at ${this.logEndOffset}`)
      }
      if (offset > this.logStart) await this.moveStart(offset)
    })
  }

  /**
   * Deletes the oldest closed segments that retention.ms / retention.bytes condemn and that end
   * at or below `allowedOffset` (the high watermark). Never the active segment.
   */
  async applyRetention(allowedOffset: number): Promise<RetentionResult> {
    return this.exclusive(async () => {
      const summaries = this.segments.map((s, i) => ({
        baseOffset: s.baseOffset,
        endOffset: this.segments[i + 1]?.baseOffset ?? s.nextOffset,
        sizeBytes: s.size,
        maxTimestamp: s.maxTimestamp,
      }))
      const count = this.config.cleanupPolicy === 'compact' ? 0 : planRetention(summaries, this.config, this.clock(), allowedOffset)
      let deletedBytes = 0
      for (let i = 0; i < count; i++) deletedBytes += this.segments[i].size
      if (count > 0) await this.moveStart(Math.max(this.logStart, this.segments[count].baseOffset))
      return { deletedSegments: count, deletedBytes }
    })
  }

  /**
   * Moves the log start up to `offset`: saves it with the epoch of the record below it first (a
   * crash then reopens at the new start), then deletes the segments wholly below it, oldest
   * first, each durably (no holes after a crash), and clamps the epoch cache.
   */
  private async moveStart(offset: number): Promise<void> {
    await saveLogStart(this.fs, this.dir, { offset, epoch: this.epochs.epochAt(offset - 1) }, (b) => this.codec.crc32c(b))
    this.logStart = offset
    let count = 0
    while (count < this.segments.length - 1 && this.segments[count + 1].baseOffset <= offset) count++
    if (count > 0) await this.compactionIdle()
    for (let i = 0; i < count; i++) {
      const seg = this.segments.shift()!
      try {
        await removeSegmentFiles(this.fs, seg)
      } catch (cause) {
        throw this.fail('segment deletion failed', cause)
      }
    }
    this.corrupt.splice(0, this.corrupt.length, ...this.corrupt.filter((r) => r.endOffset > this.logStart))
    if (this.clampEpochs()) {
      this.epochDirty = true
      await this.epochSaver.run()
    }
  }

  /**
   * One compaction pass (cleanup.policy=compact) over the closed segments that end at or below
   * `allowedOffset` (the high watermark). Appends and reads continue meanwhile; truncation and
   * retention wait for it. Resolves when every rewritten segment is durably in place.
   */
  async compact(allowedOffset: number): Promise<CompactionResult> {
    this.assertOpen()
    if (this.config.cleanupPolicy === 'delete') {
      throw new StorageError('INVALID_CONFIG', `${this.dir}: compaction needs cleanupPolicy compact`)
    }
    const previous = this.compaction ?? Promise.resolve()
    const run = previous.catch(() => undefined).then(() => compact(this.cleanerHost(), Math.min(allowedOffset, this.logEndOffset)))
    const tracked = run.catch((cause) => {
      throw this.fail('compaction failed', cause)
    })
    this.compaction = tracked
    void tracked.catch(() => undefined).then(() => {
      if (this.compaction === tracked) this.compaction = null
    })
    return tracked
  }

  private async compactionIdle(): Promise<void> {
    while (this.compaction !== null) await this.compaction.catch(() => undefined)
  }

  private cleanerHost(): CleanerHost {
    return {
      dir: this.dir,
      fs: this.fs,
      codec: this.codec,
      segments: this.segments,
      indexIntervalBytes: this.config.indexIntervalBytes,
      deleteRetentionMs: this.config.deleteRetentionMs,
      nowMs: this.clock,
      writeDurably: (path: string, bytes: Uint8Array) => this.writeDurably(path, bytes),
    }
  }

  /**
   * Keeps the epoch cache to epochs with records in [logStart, logEnd): clamps the one that
   * straddles the start, drops one that would start at the end (after deleteRecordsBefore(end)),
   * exactly what recovery derives from the segments. Returns whether it changed.
   */
  private clampEpochs(): boolean {
    const fromStart = this.epochs.advanceStart(this.logStart)
    return this.epochs.truncateFrom(this.logEndOffset) || fromStart
  }

  private clipCorruptRanges(end: number): void {
    const kept = this.corrupt.filter((r) => r.startOffset < end).map((r) => ({ ...r, endOffset: Math.min(r.endOffset, end) }))
    this.corrupt.splice(0, this.corrupt.length, ...kept)
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs `fn` after every earlier mutation (and before later ones). Throws LOG_CLOSED at once. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serialized(() => {
      this.untouchedSinceCleanOpen = false
      return this.markerRemovalPending ? this.syncMarkerRemoval().then(fn) : fn()
    })
  }

  /** As exclusive, for a task that writes nothing (verify): the files a clean open trusted still hold. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen()
    return this.mutations.run(() => {
      this.assertOpen()
      return fn()
    })
  }

  /**
   * Makes the clean-shutdown marker's removal (at open) durable before the log first changes:
   * from then on, a crash is a crash. (Compaction needs no such step: it rewrites closed
   * segments, durably, and the marker vouches only for the active one and the checkpoints.)
   */
  private async syncMarkerRemoval(): Promise<void> {
    try {
      await this.fs.syncDir(this.dir)
      this.fsyncs++
    } catch (cause) {
      throw this.fail('fsync of the directory failed', cause)
    }
    this.markerRemovalPending = false
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('LOG_CLOSED', `${this.dir}: the log is closed`)
    if (this.failure !== null) throw this.failure
  }

  private assertWritable(): void {
    this.assertOpen()
  }

  /**
   * Drops the log without flushing or closing files, as a crashed process would (tests of
   * power cuts on SimFileLayer): stops the flush timer and fails every later call.
   */
  abandon(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.closed = true
  }

  /**
   * Flushes, writes nothing more, releases files. Unflushed-at-close data is flushed first. A
   * log that has not failed then saves what the next open needs to trust it without a scan (the
   * active segment's index files, the epoch checkpoint) and, last, the clean-shutdown marker.
   */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.timer !== null) clearInterval(this.timer)
    await this.mutations.idle()
    await this.compactionIdle()
    if (this.failure === null) {
      await this.flush()
      await this.saveForCleanOpen()
    }
    await this.groupCommit.idle()
    this.closed = true
    for (const s of this.segments) s.file.close()
    if (this.failure === null) {
      const state = { activeBaseOffset: this.active.baseOffset, activeSizeBytes: this.active.size, logEndOffset: this.logEndOffset }
      try {
        writeCleanShutdown(this.fs, this.dir, state, (b) => this.codec.crc32c(b))
      } catch {
        // Without a (whole) marker the next open recovers in full: slower, never wrong.
      }
    }
    for (const w of this.waiters.splice(0)) w.reject(new StorageError('LOG_CLOSED', `${this.dir}: closed before offset ${w.offset} was flushed`))
  }

  /**
   * The active segment's index files and the epoch checkpoint, durable with their names, so that
   * the next open can trust them (clean-shutdown.ts). Skipped for what an untouched clean open
   * already found on disk.
   */
  private async saveForCleanOpen(): Promise<void> {
    const active = this.active
    let wrote = false
    try {
      if (!this.untouchedSinceCleanOpen && active.size > 0) {
        const { index, timeIndex } = active.encodeIndexes()
        await this.writeDurably(active.path(INDEX_SUFFIX), index)
        await this.writeDurably(active.path(TIME_INDEX_SUFFIX), timeIndex)
        wrote = true
      }
      if (this.epochDirty) await this.epochSaver.run() // its own directory fsync
      else await this.epochSaver.idle()
      if (wrote) {
        await this.fs.syncDir(this.dir)
        this.fsyncs++
      }
    } catch (cause) {
      throw this.fail('saving the index files at close failed', cause)
    }
  }
}

/** Removes a segment's files and makes the removal durable. */
async function removeSegmentFiles(fs: FileLayer, seg: Segment): Promise<void> {
  seg.file.close()
  for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) fs.remove(seg.path(suffix))
  await fs.syncDir(seg.dir)
}

function framingOnly(bytes: Uint8Array): BatchHeader {
  const h = checkFraming(bytes)
  if (typeof h === 'string') throw new StorageError('INVALID_BATCH', `batch rejected: ${h}`)
  return h
}

/** The parts one after another, `headroom` bytes into a buffer of their own (a single part already is). */
function concat(parts: readonly Uint8Array[], headroom: number): Uint8Array {
  if (parts.length <= 1) return parts[0] ?? new Uint8Array(0)
  let total = 0
  for (const p of parts) total += p.length
  const out = new Uint8Array(headroom + total).subarray(headroom)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
