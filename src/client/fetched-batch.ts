// One partition's records from one fetch, read lazily: the fetched bytes plus each record
// batch's index (Codec.indexBatch: 40 bytes per record, copied out of WASM memory), and a
// record's fields are read from them only when asked for. `records` still builds the familiar
// ConsumerRecord objects (once, on first use); `count` with `value(i)`, `key(i)`, `offset(i)`,
// `timestamp(i)` and `headers(i)` reads them without an object per record, which is what
// keeps a consumer of small records from spending its time in the garbage collector.
import { HEADER_INDEX_INTS, HEADER_INDEX_SLOT, RECORD_INDEX_INTS, RECORD_INDEX_SLOT, type BatchIndex, type RecordHeader } from '../codec/index.js'
import type { ConsumerRecord } from './records.js'

// The index slots read per record, as module-level names: Node 20 keeps these constant in hot
// code, where reads through the imported tables measured up to 1.4x slower.
const { offsetDelta: OFFSET_DELTA, timestampDelta: TIMESTAMP_DELTA, keyOffset: KEY_AT, keyLength: KEY_LENGTH } = RECORD_INDEX_SLOT
const { valueOffset: VALUE_AT, valueLength: VALUE_LENGTH, firstHeader: FIRST_HEADER, headerCount: HEADER_COUNT } = RECORD_INDEX_SLOT
const { keyOffset: H_KEY_AT, keyLength: H_KEY_LENGTH, valueOffset: H_VALUE_AT, valueLength: H_VALUE_LENGTH } = HEADER_INDEX_SLOT

const utf8 = new TextDecoder('utf-8', { fatal: false })

/** One record batch of the fetch: its index and the records of it that are visible (from `first` on). */
export interface IndexedSegment {
  index: BatchIndex
  /** Records before this one in the batch are older than the position asked for: skipped. */
  first: number
}

interface Segment {
  index: BatchIndex
  first: number
  /** Position of the segment's first visible record among the view's records. */
  start: number
  end: number
  /** timestampDelta is a float64 in the int32 index: a view over the same bytes. */
  f64: Float64Array
  logAppendTime: boolean
}

export class RecordsView {
  /** Records in this view (what `records.length` would be, without building them). */
  readonly count: number
  private readonly segments: Segment[]
  /** The segment the last lookup found: sequential reads find theirs without a search. */
  private cursor = 0
  private built: ConsumerRecord[] | undefined

  constructor(readonly topic: string, readonly partition: number, segments: readonly IndexedSegment[]) {
    let start = 0
    this.segments = []
    for (const s of segments) {
      const n = s.index.header.recordCount - s.first
      if (n <= 0) continue
      const r = s.index.records
      this.segments.push({
        index: s.index, first: s.first, start, end: start + n,
        f64: new Float64Array(r.buffer, r.byteOffset, r.length >> 1),
        logAppendTime: s.index.header.timestampType === 'LogAppendTime',
      })
      start += n
    }
    this.count = start
  }

  /** The i-th record's offset. */
  offset(i: number): number {
    const s = this.segment(i)
    return s.index.header.baseOffset + s.index.records[this.slot(s, i) + OFFSET_DELTA]
  }

  timestamp(i: number): number {
    const s = this.segment(i)
    if (s.logAppendTime) return s.index.header.maxTimestamp
    return s.index.header.baseTimestamp + s.f64[(this.slot(s, i) + TIMESTAMP_DELTA) >> 1]
  }

  /** The i-th record's key: a view into the fetched bytes (copy it to keep it), or null. */
  key(i: number): Uint8Array | null {
    const s = this.segment(i)
    const r = this.slot(s, i)
    return view(s.index.data, s.index.records[r + KEY_AT], s.index.records[r + KEY_LENGTH])
  }

  /** The i-th record's value: a view into the fetched bytes (copy it to keep it), or null. */
  value(i: number): Uint8Array | null {
    const s = this.segment(i)
    const r = this.slot(s, i)
    return view(s.index.data, s.index.records[r + VALUE_AT], s.index.records[r + VALUE_LENGTH])
  }

  /** The i-th record's value length in bytes, -1 for null, without a view. */
  valueLength(i: number): number {
    const s = this.segment(i)
    return s.index.records[this.slot(s, i) + VALUE_LENGTH]
  }

  headers(i: number): RecordHeader[] {
    const s = this.segment(i)
    const r = this.slot(s, i)
    const { records, headers, data } = s.index
    const count = records[r + HEADER_COUNT]
    const out: RecordHeader[] = new Array(count)
    for (let h = 0; h < count; h++) {
      const e = (records[r + FIRST_HEADER] + h) * HEADER_INDEX_INTS
      const keyAt = headers[e + H_KEY_AT]
      out[h] = { key: utf8.decode(data.subarray(keyAt, keyAt + headers[e + H_KEY_LENGTH])), value: view(data, headers[e + H_VALUE_AT], headers[e + H_VALUE_LENGTH]) }
    }
    return out
  }

  /** The i-th record as an object. */
  record(i: number): ConsumerRecord {
    return {
      topic: this.topic, partition: this.partition, offset: this.offset(i), timestamp: this.timestamp(i),
      key: this.key(i), value: this.value(i), headers: this.headers(i),
    }
  }

  /** Every record as an object, built on first use. */
  get records(): ConsumerRecord[] {
    if (this.built === undefined) {
      const out: ConsumerRecord[] = new Array(this.count)
      for (let i = 0; i < this.count; i++) out[i] = this.record(i)
      this.built = out
    }
    return this.built
  }

  private segment(i: number): Segment {
    let s = this.segments[this.cursor]
    if (s !== undefined && i >= s.start && i < s.end) return s
    if (!(i >= 0 && i < this.count)) throw new RangeError(`record ${i} of ${this.count}`)
    let lo = 0
    let hi = this.segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.segments[mid].start <= i) lo = mid
      else hi = mid - 1
    }
    this.cursor = lo
    s = this.segments[lo]
    return s
  }

  private slot(s: Segment, i: number): number {
    return (s.first + i - s.start) * RECORD_INDEX_INTS
  }
}

function view(data: Uint8Array, at: number, len: number): Uint8Array | null {
  return len < 0 ? null : data.subarray(at, at + len)
}

/**
 * What Consumer.batches() yields: one partition's records from one fetch (a RecordsView), and
 * where the partition stands after them.
 */
export class FetchedBatch extends RecordsView {
  constructor(
    topic: string,
    partition: number,
    segments: readonly IndexedSegment[],
    readonly highWatermark: number,
    /** The offset this fetch asked for. */
    readonly fromOffset: number,
    /** The offset after these records (past any control batches and compaction gaps). */
    readonly nextOffset: number,
    /** The partition's seek generation when fetched (answers from before a seek are dropped). */
    readonly generation: number,
  ) {
    super(topic, partition, segments)
  }
}
