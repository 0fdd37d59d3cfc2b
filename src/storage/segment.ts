// One segment: a `<baseOffset>.log` file of whole RecordBatch v2 batches, with its sparse offset
// and time indexes in memory. The log appends only to its last (active) segment; the others are
// closed: fsynced, with their index files written, and never appended to again.
import { join } from 'node:path'
import type { BatchHeader, Codec } from '../codec/index.js'
import { BATCH_HEADER_BYTES } from '../codec/index.js'
import { checkCrc, checkFraming } from './batch-check.js'
import { assert } from './errors.js'
import type { FileHandle, FileLayer } from './file-layer.js'
import { OffsetIndex } from './offset-index.js'
import { scanFile } from './scan.js'
import { TimeIndex } from './time-index.js'

export const LOG_SUFFIX = '.log'
export const INDEX_SUFFIX = '.index'
export const TIME_INDEX_SUFFIX = '.timeindex'

/** Kafka's naming: the base offset as 20 decimal digits, so names sort by offset. */
export function segmentName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix
}

/** Parses `<20 digits><suffix>`, or returns null. */
export function parseSegmentName(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null
  const digits = name.slice(0, -suffix.length)
  if (!/^\d{20}$/.test(digits)) return null
  const n = Number(digits)
  return Number.isSafeInteger(n) ? n : null
}

export interface SegmentRead {
  /** Whole batches (one copy from the file; no per-record work). */
  bytes: Uint8Array
  /** Offset after the last returned batch (fromOffset's batch start if none). */
  nextOffset: number
  /** Set when a batch failed its CRC: where, and the first offset it might hold. */
  corruptAt?: { position: number; offset: number; reason: string }
}

export class Segment {
  /** Bytes of whole batches in the file (appends go here). */
  size = 0
  /** Offset after the last batch; the base offset while empty. */
  nextOffset: number
  /** Largest batch maxTimestamp in the segment; -1 while empty. */
  maxTimestamp = -1
  /** First byte whose batch failed its CRC on a read: nothing at or past it is served. */
  unreadableFrom = Number.POSITIVE_INFINITY
  /**
   * Bytes from the file's start whose batches this process wrote after the caller checked them,
   * or scanned itself at open (the active segment; a closed one whose index was rebuilt), so
   * that every batch start below it, and so every index entry, is one this process found. Reads
   * below it skip the CRC. A closed segment opened with its index files stays at 0: those files
   * carry no checksum, and a damaged entry could start a read inside a batch.
   */
  verifiedTo = 0
  index: OffsetIndex
  timeIndex: TimeIndex
  private offsetOfMaxTimestamp: number
  private bytesSinceIndexEntry = 0

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    public file: FileHandle,
    readonly indexIntervalBytes: number,
    /** When the segment got its first append in this process (roll by age). */
    public createdMs: number,
  ) {
    this.nextOffset = baseOffset
    this.offsetOfMaxTimestamp = baseOffset
    this.index = new OffsetIndex(baseOffset)
    this.timeIndex = new TimeIndex(baseOffset)
  }

  path(suffix: string): string {
    return join(this.dir, segmentName(this.baseOffset, suffix))
  }

  static create(fs: FileLayer, dir: string, baseOffset: number, indexIntervalBytes: number, nowMs: number): Segment {
    const file = fs.open(join(dir, segmentName(baseOffset, LOG_SUFFIX)), { create: true })
    file.truncate(0)
    return new Segment(dir, baseOffset, file, indexIntervalBytes, nowMs)
  }

  /** Index bookkeeping for a batch just stored at `position` (append, recovery, rebuild). */
  track(header: BatchHeader, position: number): void {
    assert(position === this.size, 'batches are tracked in file order')
    assert(header.baseOffset >= this.nextOffset, 'offsets increase within a segment')
    if (header.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = header.maxTimestamp
      this.offsetOfMaxTimestamp = header.baseOffset
    }
    if (this.bytesSinceIndexEntry >= this.indexIntervalBytes) {
      this.index.append(header.baseOffset, position)
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)
      this.bytesSinceIndexEntry = 0
    }
    this.bytesSinceIndexEntry += header.sizeBytes
    this.size = position + header.sizeBytes
    this.nextOffset = header.nextOffset
  }

  /** Writes whole batches (already checked) at the end of the file; not yet durable. */
  append(bytes: Uint8Array, headers: readonly BatchHeader[], ranges: ReadonlyArray<[number, number]>): void {
    const start = this.size
    this.file.write(bytes, start)
    for (let i = 0; i < headers.length; i++) this.track(headers[i], start + ranges[i][0])
    assert(this.size === start + bytes.length, 'tracked batches cover the write')
    if (this.verifiedTo === start) this.verifiedTo = this.size
  }

  /** Reads the header of the batch at `position`, or a reason it is not a batch there. */
  headerAt(position: number): BatchHeader | string {
    const buf = new Uint8Array(BATCH_HEADER_BYTES)
    const n = this.file.read(buf, position)
    return checkFraming(buf.subarray(0, n))
  }

  /**
   * Finds the first batch that holds an offset >= `offset` (the batch containing it, or the next
   * one across a compaction gap). Scans headers forward from the sparse index entry.
   */
  locate(
    offset: number, limit = Math.min(this.size, this.unreadableFrom),
  ): { position: number; header: BatchHeader } | { corruptAt: number; reason: string } | null {
    let position = this.index.lookup(offset).position
    while (position < limit) {
      const header = this.headerAt(position)
      if (typeof header === 'string') return { corruptAt: position, reason: header }
      if (header.nextOffset > offset) return { position, header }
      position += header.sizeBytes
    }
    return null
  }

  /**
   * Reads whole batches from `position`: the first one even if larger than maxBytes when
   * `firstWhole` (a reader always makes progress), then as many as fit in maxBytes, none ending past `maxOffset`. With a codec, every batch's
   * CRC past `verifiedTo` is checked and the read stops before the first bad one. The bytes
   * start `headroom` bytes into their buffer, which holds nothing else before them: `into` if
   * it is large enough, else a new one.
   */
  readFrom(
    position: number, first: BatchHeader, maxBytes: number, firstWhole: boolean, maxOffset: number, codec: Codec | null,
    headroom = 0, into?: Uint8Array,
  ): SegmentRead {
    const limit = Math.min(this.size, this.unreadableFrom)
    const want = Math.min(limit - position, firstWhole ? Math.max(maxBytes, first.sizeBytes) : maxBytes)
    const size = headroom + Math.max(0, want)
    const buf = (into !== undefined && into.length >= size ? into : new Uint8Array(size)).subarray(headroom, size)
    const got = this.file.read(buf, position)
    let end = 0
    let nextOffset = first.baseOffset
    while (end < got) {
      const h = checkFraming(buf.subarray(0, got), end)
      if (typeof h === 'string') {
        if (got - end < BATCH_HEADER_BYTES) break // a later batch cut off by maxBytes
        return { bytes: buf.subarray(0, end), nextOffset, corruptAt: { position: position + end, offset: nextOffset, reason: h } }
      }
      if (h.sizeBytes > got - end) break
      // CRC before trusting header fields: a flipped lastOffsetDelta must not look like "past maxOffset".
      const batchEnd = position + end + h.sizeBytes
      if (codec !== null && batchEnd > this.verifiedTo) {
        const checked = checkCrc(codec, buf.subarray(end, end + h.sizeBytes))
        if (typeof checked === 'string') {
          return { bytes: buf.subarray(0, end), nextOffset, corruptAt: { position: position + end, offset: nextOffset, reason: checked } }
        }
      }
      if (h.nextOffset > maxOffset) break
      end += h.sizeBytes
      nextOffset = h.nextOffset
    }
    return { bytes: buf.subarray(0, end), nextOffset }
  }

  /**
   * Drops every batch that holds an offset >= `offset` (a batch straddling it goes whole).
   * Index entries below the cut stay; the batches since the last one are re-tracked.
   */
  truncateTo(offset: number): void {
    // Nothing holds `offset` or later: cut nothing, but still recompute the end from the last
    // batch (a closed segment's end was the next segment's base; after compaction the last
    // batch may end before it), exactly as recovery would after a restart.
    const found = this.locate(offset, this.size) ?? { position: this.size, header: null }
    const corrupt = 'corruptAt' in found
    const cut = corrupt ? found.corruptAt : found.position
    this.file.truncate(cut)
    this.timeIndex.truncateToOffset(corrupt || found.header === null ? offset : found.header.baseOffset)
    this.index.truncateToPosition(cut)
    const from = this.index.length === 0 ? 0 : this.index.lastPosition()
    this.nextOffset = this.index.length === 0 ? this.baseOffset : this.index.lastOffset()
    this.index.truncateToPosition(from) // track() re-adds the entry at `from`
    this.bytesSinceIndexEntry = from === 0 ? 0 : this.indexIntervalBytes
    this.size = from
    this.maxTimestamp = this.timeIndex.lastTimestamp()
    this.offsetOfMaxTimestamp = this.timeIndex.lastOffset()
    const scan = scanFile(this.file, from, cut, this.nextOffset, (b) => checkFraming(b), (b) => this.track(b.header, b.position))
    if (scan.endPosition < cut) this.file.truncate(scan.endPosition)
    if (this.unreadableFrom >= this.size) this.unreadableFrom = Number.POSITIVE_INFINITY
    this.verifiedTo = Math.min(this.verifiedTo, this.size)
  }

  /** Index files for a closed segment; the time index ends with the segment's max timestamp. */
  encodeIndexes(): { index: Uint8Array; timeIndex: Uint8Array } {
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)
    return { index: this.index.encode(), timeIndex: this.timeIndex.encode() }
  }

  /**
   * Installs indexes loaded from files (closed segments opened without a scan; the active one
   * after a clean shutdown, which appends go on tracking).
   */
  adoptIndexes(index: OffsetIndex, timeIndex: TimeIndex, size: number, nextOffset: number): void {
    this.index = index
    this.timeIndex = timeIndex
    this.size = size
    this.nextOffset = nextOffset
    this.maxTimestamp = timeIndex.lastTimestamp()
    this.offsetOfMaxTimestamp = timeIndex.lastOffset()
    this.bytesSinceIndexEntry = size - Math.max(0, index.lastPosition()) // as if tracked batch by batch
  }
}
