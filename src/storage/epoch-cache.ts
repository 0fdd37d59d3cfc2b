// The leader-epoch cache: the first offset each leader epoch wrote in this log, and the epoch of
// the record just below the log start (what a deleted prefix still says about epochs). It
// answers the divergence query "where does my log of epoch E end?" (Kafka's
// OffsetsForLeaderEpoch, KIP-101/KIP-279) from positions alone. The one structure for both
// sides: the partition log keeps it beside its segments (epoch-checkpoint.ts, and the log-start
// epoch in log-start-checkpoint.ts), and the Raft core (src/raft), which never holds record
// bytes, reasons with its own copy. Pure: no I/O.
import { assert, StorageError } from './errors.js'
import { EPOCH_CACHE_ENTRIES_MAX } from './limits.js'

/** First offset written in an epoch (epochs are Raft terms, `partitionLeaderEpoch`). */
export interface EpochStart {
  readonly epoch: number
  readonly startOffset: number
}

export interface EpochEnd {
  /** The largest epoch <= the one asked about that this log has (the log start's epoch if none). */
  readonly epoch: number
  /** Exclusive end of that epoch in this log. */
  readonly endOffset: number
}

export class EpochCache {
  private list: EpochStart[] = []

  constructor(
    entries: readonly EpochStart[] = [],
    /** Epoch of the record just below the log start; 0 when nothing was ever below it. */
    private baseEpoch = 0,
  ) {
    assert(Number.isSafeInteger(baseEpoch) && baseEpoch >= 0, 'bad log start epoch')
    for (const e of entries) this.assign(e.epoch, e.startOffset)
  }

  get entries(): readonly EpochStart[] {
    return this.list
  }

  /** Epoch of the record just below the log start (0: none). */
  get logStartEpoch(): number {
    return this.baseEpoch
  }

  /** Epoch of the last record; for an empty log, of the last record below its start (0: none). */
  latestEpoch(): number {
    return this.list.length === 0 ? this.baseEpoch : this.list[this.list.length - 1].epoch
  }

  /** Where `epoch` starts in this log, or null if it wrote nothing here. */
  startOf(epoch: number): number | null {
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i].epoch === epoch) return this.list[i].startOffset
      if (this.list[i].epoch < epoch) return null
    }
    return null
  }

  /** Epoch of the record at `offset` (>= log start - 1); the log start's epoch below the first entry. */
  epochAt(offset: number): number {
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i].startOffset <= offset) return this.list[i].epoch
    }
    return this.baseEpoch
  }

  /**
   * Records that `epoch` starts at `startOffset`; re-announcing the latest epoch is a no-op, and
   * an epoch that wrote nothing (the next one starts at the same offset) leaves no entry.
   * Returns whether the cache changed. Past EPOCH_CACHE_ENTRIES_MAX it refuses (LIMIT_EXCEEDED):
   * dropping the oldest entry would give wrong divergence answers.
   */
  assign(epoch: number, startOffset: number): boolean {
    assert(Number.isSafeInteger(epoch) && epoch >= 0 && Number.isSafeInteger(startOffset) && startOffset >= 0, 'bad epoch start')
    assert(epoch >= this.baseEpoch, `epoch ${epoch} assigned after the log start's epoch ${this.baseEpoch}`)
    const last = this.list[this.list.length - 1]
    if (last !== undefined) {
      assert(epoch >= last.epoch, `epoch ${epoch} assigned after ${last.epoch}`)
      assert(startOffset >= last.startOffset, 'epoch starts must not decrease')
      if (epoch === last.epoch) return false
      if (startOffset === last.startOffset) this.list.pop()
    }
    if (this.list.length >= EPOCH_CACHE_ENTRIES_MAX) {
      throw new StorageError('LIMIT_EXCEEDED', `more than EPOCH_CACHE_ENTRIES_MAX (${EPOCH_CACHE_ENTRIES_MAX}) leader epochs in one log`)
    }
    this.list.push({ epoch, startOffset })
    return true
  }

  /**
   * Where this log's `epoch` (or the largest epoch below it) ends, given the log end; null
   * when `epoch` is older than the log start's epoch, so this log can no longer tell where it
   * diverges (the asker must start over from the log start).
   */
  endOffsetFor(epoch: number, logEnd: number): EpochEnd | null {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const e = this.list[i]
      if (e.epoch <= epoch) {
        const endOffset = i === this.list.length - 1 ? logEnd : this.list[i + 1].startOffset
        return { epoch: e.epoch, endOffset }
      }
    }
    if (epoch < this.baseEpoch) return null
    // Every entry here is newer: the logs can only agree before our first entry.
    return { epoch: this.baseEpoch, endOffset: this.list.length === 0 ? logEnd : this.list[0].startOffset }
  }

  /** The log was truncated to end at `offset`: epochs that start at or after it go. */
  truncateFrom(offset: number): boolean {
    const before = this.list.length
    while (this.list.length > 0 && this.list[this.list.length - 1].startOffset >= offset) this.list.pop()
    return this.list.length !== before
  }

  /**
   * The log now starts at `logStart`: the epoch of the record below it becomes the log start's
   * epoch, entries before it go and the one straddling it is clamped to it.
   */
  advanceStart(logStart: number): boolean {
    const baseEpoch = this.epochAt(logStart - 1)
    let keep = 0
    while (keep < this.list.length && this.list[keep].startOffset < logStart) keep++
    const straddling = keep > 0 && (keep === this.list.length || this.list[keep].startOffset > logStart)
    if (keep === 0 && baseEpoch === this.baseEpoch) return false
    const removed = this.list.splice(0, keep)
    if (straddling) this.list.unshift({ epoch: removed[removed.length - 1].epoch, startOffset: logStart })
    this.baseEpoch = baseEpoch
    return true
  }

  /** An empty log starting after a record of epoch `logStartEpoch` (a reset or an installed snapshot). */
  reset(logStartEpoch: number): void {
    assert(Number.isSafeInteger(logStartEpoch) && logStartEpoch >= 0, 'bad log start epoch')
    this.list = []
    this.baseEpoch = logStartEpoch
  }

  /** A copy of the entries. */
  snapshot(): EpochStart[] {
    return this.list.map((e) => ({ ...e }))
  }
}
