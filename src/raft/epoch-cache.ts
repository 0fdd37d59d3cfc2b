// The leader-epoch cache: the first offset each epoch wrote. It answers the divergence
// query "where does my log of epoch E end?" (Kafka's OffsetsForLeaderEpoch) without
// reading records, which is how the core reasons about logs it never holds.
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

  constructor(initial: readonly EpochStart[]) {
    for (const e of initial) this.assign(e.epoch, e.startOffset)
  }

  /** Epoch of the last entry in the log, 0 for an empty log. */
  latestEpoch(): number {
    return this.entries.length === 0 ? 0 : this.entries[this.entries.length - 1].epoch
  }

  startOf(epoch: number): number | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].epoch === epoch) return this.entries[i].startOffset
      if (this.entries[i].epoch < epoch) return null
    }
    return null
  }

  /** Records that `epoch` starts at `startOffset`; re-announcing the latest epoch is a no-op. */
  assign(epoch: number, startOffset: number): void {
    assert(epoch >= 1 && Number.isSafeInteger(startOffset) && startOffset >= 0, 'bad epoch start')
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

  /** Where this log's `epoch` (or the largest epoch below it) ends, given the log end. */
  endOffsetFor(epoch: number, logEnd: number): EpochEnd {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]
      if (e.epoch <= epoch) {
        const endOffset = i === this.entries.length - 1 ? logEnd : this.entries[i + 1].startOffset
        return { epoch: e.epoch, endOffset }
      }
    }
    // Every epoch here is newer: the logs can only agree before our first entry.
    return { epoch: 0, endOffset: this.entries.length === 0 ? logEnd : this.entries[0].startOffset }
  }

  /** Forgets epochs that start at or after `offset` (the log was truncated there). */
  truncateFrom(offset: number): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1].startOffset >= offset) {
      this.entries.pop()
    }
  }

  clear(): void {
    this.entries.length = 0
  }

  snapshot(): EpochStart[] {
    return this.entries.map((e) => ({ ...e }))
  }
}
