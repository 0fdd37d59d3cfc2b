// The leader-epoch cache: for each leader epoch present in the log, the offset where it starts.
// Raft's log matching and a follower's divergence check (KIP-101/KIP-279) read it; it is kept
// consistent with the log through appends, truncation (drop entries at or past the new end)
// and retention (drop entries before the new start, clamping the one that straddles it).
// Pure in-memory logic here; epoch-checkpoint.ts persists it.
import { assert } from './errors.js'
import { EPOCH_CACHE_ENTRIES_MAX } from './limits.js'

export interface EpochEntry {
  readonly epoch: number
  readonly startOffset: number
}

export interface EpochEnd {
  /** The largest epoch <= the one asked for, or -1 if there is none. */
  epoch: number
  /** Where that epoch ends (exclusive): the start of the next epoch, or the log end. -1 if none. */
  endOffset: number
}

export class EpochCache {
  private list: EpochEntry[]

  constructor(entries: readonly EpochEntry[] = []) {
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i].epoch > entries[i - 1].epoch, 'epochs increase')
      assert(entries[i].startOffset > entries[i - 1].startOffset, 'epoch start offsets increase')
    }
    this.list = entries.slice()
  }

  get entries(): readonly EpochEntry[] {
    return this.list
  }

  latestEpoch(): number {
    return this.list.length === 0 ? -1 : this.list[this.list.length - 1].epoch
  }

  /**
   * Records that `epoch` starts at `startOffset` if it is newer than the latest one. An older
   * epoch is a caller bug (appends check first). Returns whether the cache changed. An epoch
   * whose predecessor holds no records (same start offset) replaces it, as in Kafka.
   */
  assign(epoch: number, startOffset: number): boolean {
    const last = this.list[this.list.length - 1]
    if (last !== undefined && epoch <= last.epoch) {
      assert(epoch === last.epoch, `epoch ${epoch} is older than the latest ${last.epoch}`)
      return false
    }
    if (last !== undefined) assert(startOffset >= last.startOffset, 'a new epoch starts after the previous one')
    if (last !== undefined && last.startOffset === startOffset) this.list.pop()
    if (this.list.length >= EPOCH_CACHE_ENTRIES_MAX) this.list.shift()
    this.list.push({ epoch, startOffset })
    return true
  }

  /** Kafka's OffsetsForLeaderEpoch answer for `epoch`, given the log end. */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEnd {
    let i = this.list.length - 1
    while (i >= 0 && this.list[i].epoch > epoch) i--
    if (i < 0) return { epoch: -1, endOffset: -1 }
    const next = this.list[i + 1]
    return { epoch: this.list[i].epoch, endOffset: next === undefined ? logEndOffset : next.startOffset }
  }

  /** The epoch of the record at `offset`, or -1 if it precedes every entry. */
  epochAt(offset: number): number {
    let i = this.list.length - 1
    while (i >= 0 && this.list[i].startOffset > offset) i--
    return i < 0 ? -1 : this.list[i].epoch
  }

  /** After truncating the log to end at `offset`: drops epochs that start at or after it. */
  truncateFromEnd(offset: number): boolean {
    const before = this.list.length
    while (this.list.length > 0 && this.list[this.list.length - 1].startOffset >= offset) this.list.pop()
    return this.list.length !== before
  }

  /** After the log start moved to `offset`: drops epochs wholly before it, clamps the straddler. */
  truncateFromStart(offset: number): boolean {
    let drop = 0
    while (drop + 1 < this.list.length && this.list[drop + 1].startOffset <= offset) drop++
    const first = this.list[drop]
    const clamp = first !== undefined && first.startOffset < offset
    if (drop === 0 && !clamp) return false
    this.list = this.list.slice(drop)
    if (clamp) this.list[0] = { epoch: first.epoch, startOffset: offset }
    return true
  }
}
