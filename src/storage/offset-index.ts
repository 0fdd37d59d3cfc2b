// The sparse offset index of one segment: (offset relative to the segment base, file position)
// of a batch start, about one entry per `indexIntervalBytes` of log. A lookup finds the last
// entry at or before an offset; the reader scans forward from there, so a sparser (or empty)
// index is slower but never wrong. Kept in memory; written as a file when the segment closes.
// File: entries of u32 relativeOffset + u32 position, big-endian (Kafka's .index layout).
import { assert } from './errors.js'
import { OFFSET_INDEX_ENTRY_BYTES } from './limits.js'

export class OffsetIndex {
  private rel: number[] = []
  private pos: number[] = []

  constructor(readonly baseOffset: number) {}

  get length(): number {
    return this.rel.length
  }

  lastPosition(): number {
    return this.pos.length === 0 ? -1 : this.pos[this.pos.length - 1]
  }

  lastOffset(): number {
    return this.rel.length === 0 ? -1 : this.baseOffset + this.rel[this.rel.length - 1]
  }

  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset
    assert(relative >= 0 && relative <= 0xffffffff, 'index offset within the segment')
    assert(this.rel.length === 0 || (relative > this.rel[this.rel.length - 1] && position > this.lastPosition()), 'index entries increase')
    this.rel.push(relative)
    this.pos.push(position)
  }

  /** The last entry with offset <= `offset`: { offset, position }, or the segment start. */
  lookup(offset: number): { offset: number; position: number } {
    const target = offset - this.baseOffset
    let lo = 0
    let hi = this.rel.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.rel[mid] <= target) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0
      ? { offset: this.baseOffset, position: 0 }
      : { offset: this.baseOffset + this.rel[found], position: this.pos[found] }
  }

  /** Drops entries at or past `position` (after truncating the segment there). */
  truncateToPosition(position: number): void {
    while (this.pos.length > 0 && this.pos[this.pos.length - 1] >= position) {
      this.pos.pop()
      this.rel.pop()
    }
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.rel.length * OFFSET_INDEX_ENTRY_BYTES)
    const v = new DataView(out.buffer)
    for (let i = 0; i < this.rel.length; i++) {
      v.setUint32(i * 8, this.rel[i])
      v.setUint32(i * 8 + 4, this.pos[i])
    }
    return out
  }

  /** Parses an index file; null if it is not a well-formed index of a `segmentBytes` segment. */
  static decode(baseOffset: number, bytes: Uint8Array, segmentBytes: number): OffsetIndex | null {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return null
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const index = new OffsetIndex(baseOffset)
    for (let at = 0; at < bytes.length; at += OFFSET_INDEX_ENTRY_BYTES) {
      const rel = v.getUint32(at)
      const pos = v.getUint32(at + 4)
      const n = index.rel.length
      if (pos >= segmentBytes || (n > 0 && (rel <= index.rel[n - 1] || pos <= index.pos[n - 1]))) return null
      index.rel.push(rel)
      index.pos.push(pos)
    }
    return index
  }
}
