// The leader-epoch cache: the first offset each epoch wrote. It answers the divergence
// query "where does my log of epoch E end?" (Kafka's OffsetsForLeaderEpoch) without
// reading records, which is how the core reasons about logs it never holds. Once the log
// start has advanced (retention, a snapshot, a reset), `baseEpoch` is the epoch of the record
// just below the log start: what the deleted prefix still says about epochs.
import { assert } from './assert.js'
import { EPOCH_CACHE_ENTRIES_MAX } from './limits.js'
import type { EpochStart } from './types.js'

export interface EpochEnd {
  /** The largest epoch <= the one asked about that this log has (0: none). */
  readonly epoch: number
  /** Exclusive end of that epoch in this log. */
  readonly endOffset: number
}

export class EpochCache {
  private readonly entries: EpochStart[] = []

  constructor(
    initial: readonly EpochStart[],
    private baseEpoch = 0,
  ) {
    for (const e of initial) this.assign(e.epoch, e.startOffset)
  }

  /** Epoch of the last entry in the log; for an empty log, of the last record below its start (0: none). */
  latestEpoch(): number {
    return this.entries.length === 0 ? this.baseEpoch : this.entries[this.entries.length - 1].epoch
  }

  startOf(epoch: number): number | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].epoch === epoch) return this.entries[i].startOffset
      if (this.entries[i].epoch < epoch) return null
    }
    return null
  }

  /** Epoch of the record at `offset` (offset >= log start - 1); the base epoch below the first entry. */
  epochAt(offset: number): number {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].startOffset <= offset) return this.entries[i].epoch
    }
    return this.baseEpoch
  }

  /** Records that `epoch` starts at `startOffset`; re-announcing the latest epoch is a no-op. */
  assign(epoch: number, startOffset: number): void {
    assert(epoch >= 1 && Number.isSafeInteger(startOffset) && startOffset >= 0, 'bad epoch start')
    assert(epoch >= this.baseEpoch, `epoch ${epoch} assigned after the log start's epoch ${this.baseEpoch}`)
    const last = this.entries[this.entries.length - 1]
    if (last !== undefined) {
      assert(epoch >= last.epoch, `epoch ${epoch} assigned after ${last.epoch}`)
      if (epoch === last.epoch) {
        assert(startOffset >= last.startOffset, 'epoch start moved backwards')
        return
      }
      assert(startOffset >= last.startOffset, 'epoch starts must not decrease')
      // An epoch that wrote nothing (its start was truncated away) leaves no entry.
      if (startOffset === last.startOffset) this.entries.pop()
    }
    assert(this.entries.length < EPOCH_CACHE_ENTRIES_MAX, 'epoch cache full')
    this.entries.push({ epoch, startOffset })
  }

  /**
   * Where this log's `epoch` (or the largest epoch below it) ends, given the log end; null
   * when `epoch` is older than the log start's epoch, so this log cannot tell any more
   * where it diverges (the asker must start over from the log start).
   */
  endOffsetFor(epoch: number, logEnd: number): EpochEnd | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]
      if (e.epoch <= epoch) {
        const endOffset = i === this.entries.length - 1 ? logEnd : this.entries[i + 1].startOffset
        return { epoch: e.epoch, endOffset }
      }
    }
    if (epoch < this.baseEpoch) return null
    // Every entry here is newer: the logs can only agree before our first entry.
    return { epoch: this.baseEpoch, endOffset: this.entries.length === 0 ? logEnd : this.entries[0].startOffset }
  }

  /** Forgets epochs that start at or after `offset` (the log was truncated there). */
  truncateFrom(offset: number): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1].startOffset >= offset) {
      this.entries.pop()
    }
  }

  /** The log now starts at `logStart`: entries before it go, the one straddling it is clamped. */
  advanceStart(logStart: number): void {
    this.baseEpoch = this.epochAt(logStart - 1)
    let keep = 0
    while (keep < this.entries.length && this.entries[keep].startOffset < logStart) keep++
    const straddling = keep > 0 && (keep === this.entries.length || this.entries[keep].startOffset > logStart)
    const removed = this.entries.splice(0, keep)
    if (straddling) this.entries.unshift({ epoch: removed[removed.length - 1].epoch, startOffset: logStart })
  }

  /** An empty log starting after a record of epoch `baseEpoch` (a reset or an installed snapshot). */
  reset(baseEpoch: number): void {
    this.entries.length = 0
    this.baseEpoch = baseEpoch
  }

  get logStartEpoch(): number {
    return this.baseEpoch
  }

  snapshot(): EpochStart[] {
    return this.entries.map((e) => ({ ...e }))
  }
}
