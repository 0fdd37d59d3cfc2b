// The sparse time index of one segment: (max timestamp so far, offset relative to the segment
// base of the batch where it was reached). Entries are added with the offset index (about one per
// `indexIntervalBytes`) when the max timestamp grew, plus a final one when the segment closes,
// so the last entry holds the segment's largest timestamp (retention by time reads it).
// File: entries of i64 timestamp + u32 relativeOffset, big-endian (Kafka's .timeindex layout).
import { assert } from './errors.js'
import { TIME_INDEX_ENTRY_BYTES } from './limits.js'

const TWO_POW_32 = 4294967296

export class TimeIndex {
  private ts: number[] = []
  private rel: number[] = []

  constructor(readonly baseOffset: number) {}

  get length(): number {
    return this.ts.length
  }

  lastTimestamp(): number {
    return this.ts.length === 0 ? -1 : this.ts[this.ts.length - 1]
  }

  /** Offset of the last entry (the segment base if none). */
  lastOffset(): number {
    return this.rel.length === 0 ? this.baseOffset : this.baseOffset + this.rel[this.rel.length - 1]
  }

  /** Adds an entry if `timestamp` is a new maximum. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp <= this.lastTimestamp()) return
    const relative = offset - this.baseOffset
    assert(relative >= 0 && relative <= 0xffffffff, 'time index offset within the segment')
    assert(this.rel.length === 0 || relative >= this.rel[this.rel.length - 1], 'time index offsets do not go back')
    this.ts.push(timestamp)
    this.rel.push(relative)
  }

  /**
   * Where to start looking for the first batch with max timestamp >= `timestamp`: the offset of
   * the last entry whose timestamp is below it (every batch before that entry is older), or the
   * segment base.
   */
  lookup(timestamp: number): number {
    let lo = 0
    let hi = this.ts.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.ts[mid] < timestamp) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? this.baseOffset : this.baseOffset + this.rel[found]
  }

  /** Drops entries at or past `offset`; the caller re-adds the max of what remains. */
  truncateToOffset(offset: number): void {
    while (this.rel.length > 0 && this.baseOffset + this.rel[this.rel.length - 1] >= offset) {
      this.rel.pop()
      this.ts.pop()
    }
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.ts.length * TIME_INDEX_ENTRY_BYTES)
    const v = new DataView(out.buffer)
    for (let i = 0; i < this.ts.length; i++) {
      const hi = Math.floor(this.ts[i] / TWO_POW_32)
      v.setInt32(i * 12, hi)
      v.setUint32(i * 12 + 4, this.ts[i] - hi * TWO_POW_32)
      v.setUint32(i * 12 + 8, this.rel[i])
    }
    return out
  }

  /** Parses a time-index file; null if it is not well-formed. */
  static decode(baseOffset: number, bytes: Uint8Array): TimeIndex | null {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return null
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const index = new TimeIndex(baseOffset)
    for (let at = 0; at < bytes.length; at += TIME_INDEX_ENTRY_BYTES) {
      const ts = v.getInt32(at) * TWO_POW_32 + v.getUint32(at + 4)
      const rel = v.getUint32(at + 8)
      const n = index.ts.length
      if (n > 0 && (ts <= index.ts[n - 1] || rel < index.rel[n - 1])) return null
      index.ts.push(ts)
      index.rel.push(rel)
    }
    return index
  }
}
