// Hand-written encoders for the two frames that carry record bytes: a ProduceRequest and a
// FetchResponse. protobufjs builds a list of write operations, then allocates and copies; for
// frames that are mostly record batches these encoders compute every length first, allocate
// the frame once and copy each batch into it once, so a partition's batches may also be
// separate buffers (concatenated in place, as the `records` field allows). The bytes are
// exactly protobufjs's (same field order, same varints, proto3 defaults — 0, "", empty bytes —
// left out): a decoder cannot tell them apart, which test/protocol/frame-writer.test.ts checks
// against the generated code. One exception: a fetch answer's fetched_from is written before
// its records (see writeFetchPartition).
import type { bitacora } from './pb.js'

/** One partition's record batches, written one after another as its `records` field. */
export interface PartitionRecords {
  index: number
  batches: readonly Uint8Array[]
}

export interface ProduceFrame {
  correlationId: number
  acks: number
  timeoutMs: number
  topics: ReadonlyArray<{ name: string; partitions: readonly PartitionRecords[] }>
}

const utf8 = new TextEncoder()

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const TAG_CORRELATION_ID = 0x08 // Request/Response.correlation_id = 1
const TAG_PRODUCE = [0x82, 0x01] // Request.produce = 16
const TAG_FETCH = [0x8a, 0x01] // Response.fetch = 17

/** Bytes of a varint holding an unsigned 32-bit value (taken modulo 2^32, as protobufjs does). */
function uint32Size(v: number): number {
  v >>>= 0
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5
}

/** Bytes of an int32 as protobuf writes it: negatives are sign-extended to 10 bytes. */
function int32Size(v: number): number {
  return v < 0 ? 10 : uint32Size(v)
}

/** Bytes of an int64 held in a JS number (|v| < 2^53), as a varint. */
function int64Size(v: number): number {
  if (v < 0) return 10
  let n = 1
  while (v >= 128) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

class Out {
  at = 0
  constructor(readonly bytes: Uint8Array) {}

  byte(b: number): void {
    this.bytes[this.at++] = b
  }

  tag(tag: readonly number[] | number): void {
    if (typeof tag === 'number') this.byte(tag)
    else for (const b of tag) this.byte(b)
  }

  uint32(v: number): void {
    v >>>= 0
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80)
      v >>>= 7
    }
    this.byte(v)
  }

  int32(v: number): void {
    if (v >= 0) return this.uint32(v)
    // Two's complement over 64 bits: the low 32 bits, then ones.
    let lo = v >>> 0
    for (let i = 0; i < 4; i++) {
      this.byte((lo & 0x7f) | 0x80)
      lo >>>= 7
    }
    this.byte((lo & 0x0f) | 0x70 | 0x80) // bits 28-31 of the value, bits 32-34 set
    for (let i = 0; i < 4; i++) this.byte(0xff)
    this.byte(0x01)
  }

  int64(v: number): void {
    if (v < 0) {
      // Negative int64s are never written by Bitácora except -1 (unknown); protobuf's form of any negative.
      const hi = Math.floor(v / 4294967296)
      let lo = (v - hi * 4294967296) >>> 0
      let h = hi >>> 0
      for (let i = 0; i < 9; i++) {
        this.byte((lo & 0x7f) | 0x80)
        lo = (lo >>> 7) | ((h & 0x7f) << 25)
        h >>>= 7
      }
      this.byte(lo & 0x01)
      return
    }
    while (v >= 128) {
      this.byte((v % 128) | 0x80)
      v = Math.floor(v / 128)
    }
    this.byte(v)
  }

  raw(b: Uint8Array): void {
    // Bytes already where they go (a frame written around them in place) are not copied.
    if (b.buffer !== this.bytes.buffer || b.byteOffset !== this.bytes.byteOffset + this.at) this.bytes.set(b, this.at)
    this.at += b.length
  }
}

function recordsLength(batches: readonly Uint8Array[]): number {
  let n = 0
  for (const b of batches) n += b.length
  return n
}

// Bytes of optional fields as proto3 writes them: nothing for a default (0, "", empty bytes).
const varField = (v: number) => (v === 0 ? 0 : 1 + int32Size(v))
const uintField = (v: number) => (v === 0 ? 0 : 1 + uint32Size(v))
const lenField = (n: number) => (n === 0 ? 0 : 1 + uint32Size(n) + n)

/** Where a frame writer gets the bytes it writes a frame of `bytes` bytes into. */
export type FrameAllocator = (bytes: number) => Uint8Array

const allocateFrame: FrameAllocator = (bytes) => new Uint8Array(bytes)

/**
 * Encodes a Request { correlation_id, produce } frame, into `allocate(size)` (by default a
 * new buffer; a connection passes a reused one: src/client/frame-scratch.ts).
 */
export function writeProduceRequest(f: ProduceFrame, allocate: FrameAllocator = allocateFrame): Uint8Array {
  const names = f.topics.map((t) => utf8.encode(t.name))
  const recordBytes: number[][] = []
  const partSizes: number[][] = []
  const topicSizes: number[] = []
  let produceSize = varField(f.acks) + uintField(f.timeoutMs)
  f.topics.forEach((t, i) => {
    const lengths = t.partitions.map((p) => recordsLength(p.batches))
    const sizes = t.partitions.map((p, j) => varField(p.index) + lenField(lengths[j]))
    recordBytes.push(lengths)
    partSizes.push(sizes)
    let topicSize = lenField(names[i].length)
    for (const s of sizes) topicSize += 1 + uint32Size(s) + s
    topicSizes.push(topicSize)
    produceSize += 1 + uint32Size(topicSize) + topicSize
  })
  const total = uintField(f.correlationId) + TAG_PRODUCE.length + uint32Size(produceSize) + produceSize
  const o = new Out(allocate(total))
  if (o.bytes.length !== total) throw new RangeError(`frame allocator gave ${o.bytes.length} bytes for a ${total}-byte frame`)
  if (f.correlationId !== 0) {
    o.byte(TAG_CORRELATION_ID)
    o.uint32(f.correlationId)
  }
  o.tag(TAG_PRODUCE)
  o.uint32(produceSize)
  if (f.acks !== 0) {
    o.byte(0x08) // acks = 1
    o.int32(f.acks)
  }
  if (f.timeoutMs !== 0) {
    o.byte(0x10) // timeout_ms = 2
    o.uint32(f.timeoutMs)
  }
  f.topics.forEach((t, i) => {
    o.byte(0x1a) // topics = 3
    o.uint32(topicSizes[i])
    if (names[i].length > 0) {
      o.byte(0x0a) // name = 1
      o.uint32(names[i].length)
      o.raw(names[i])
    }
    t.partitions.forEach((p, j) => {
      o.byte(0x12) // partitions = 2
      o.uint32(partSizes[i][j])
      if (p.index !== 0) {
        o.byte(0x08) // index = 1
        o.int32(p.index)
      }
      if (recordBytes[i][j] > 0) {
        o.byte(0x12) // records = 2
        o.uint32(recordBytes[i][j])
        for (const b of p.batches) o.raw(b)
      }
    })
  })
  if (o.at !== total) throw new Error(`produce frame: wrote ${o.at} of ${total} bytes`)
  return o.bytes
}

/** One partition of a fetch response, as the broker answers it. */
export type FetchPartition = bitacora.FetchResponse.IPartitionData

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined

/** Bytes of an Error message body. */
function errorSize(e: bitacora.IError, message: Uint8Array | null): number {
  return (present(e.code) ? varField(e.code) : 0) + (message !== null ? lenField(message.length) : 0)
}

function writeError(o: Out, e: bitacora.IError, message: Uint8Array | null): void {
  if (present(e.code) && e.code !== 0) {
    o.byte(0x08)
    o.int32(e.code)
  }
  if (message !== null && message.length > 0) {
    o.byte(0x12)
    o.uint32(message.length)
    o.raw(message)
  }
}

const int64Field = (v: number | null | undefined) => (present(v) && v !== 0 ? 1 + int64Size(v) : 0)
const int32Field = (v: number | null | undefined) => (present(v) ? varField(v) : 0)

function fetchPartitionSize(p: FetchPartition, message: Uint8Array | null): number {
  let n = int32Field(p.index)
  if (present(p.error)) {
    const e = errorSize(p.error, message)
    n += 1 + uint32Size(e) + e
  }
  n += int64Field(p.highWatermark) + int64Field(p.logStartOffset)
  if (present(p.fetchedFrom)) n += 1 + int64Size(p.fetchedFrom)
  if (present(p.records)) n += lenField(p.records.length)
  return n + int32Field(p.leaderHint) + (present(p.leaderHintEpoch) ? 1 + int32Size(p.leaderHintEpoch) : 0)
}

function writeFetchPartition(o: Out, p: FetchPartition, message: Uint8Array | null): void {
  if (present(p.index) && p.index !== 0) {
    o.byte(0x08)
    o.int32(p.index)
  }
  if (present(p.error)) {
    o.byte(0x12)
    o.uint32(errorSize(p.error, message))
    writeError(o, p.error, message)
  }
  if (present(p.highWatermark) && p.highWatermark !== 0) {
    o.byte(0x18)
    o.int64(p.highWatermark)
  }
  if (present(p.logStartOffset) && p.logStartOffset !== 0) {
    o.byte(0x20)
    o.int64(p.logStartOffset)
  }
  // fetched_from = 8 (optional: written even when 0) goes before records, out of field order
  // (valid protobuf; protobufjs alone would put it after), so the frame still ends with the
  // stored batches and can be written in front of them.
  if (present(p.fetchedFrom)) {
    o.byte(0x40)
    o.int64(p.fetchedFrom)
  }
  if (present(p.records) && p.records.length > 0) {
    o.byte(0x2a)
    o.uint32(p.records.length)
    o.raw(p.records)
  }
  if (present(p.leaderHint) && p.leaderHint !== 0) {
    o.byte(0x30)
    o.int32(p.leaderHint)
  }
  if (present(p.leaderHintEpoch)) { // optional: written even when 0
    o.byte(0x38)
    o.int32(p.leaderHintEpoch)
  }
}

/**
 * Free bytes before a fetch's stored batches that let the writer frame them in place: the
 * frame's bytes before the last partition's records, with a topic name of up to 249 bytes.
 */
export const FETCH_FRAME_HEADROOM_BYTES = 512

/**
 * Encodes a Response { correlation_id, fetch } frame. Fields that are null or undefined are
 * left out, as protobufjs does; each partition's stored batches are copied once. With
 * `lastRecordsHaveHeadroom` (the caller vouches that the bytes before the last partition's
 * records in their buffer are free), a frame that ends with those records and fits in front of
 * them is written there, and they are not copied at all.
 */
export function writeFetchResponse(
  correlationId: number, fetch: bitacora.IFetchResponse, options: { lastRecordsHaveHeadroom?: boolean } = {},
): Uint8Array {
  const topics = fetch.topics ?? []
  const names = topics.map((t) => (present(t.name) ? utf8.encode(t.name) : null))
  const messages = topics.map((t) => (t.partitions ?? []).map((p) => (present(p.error) && present(p.error.message) ? utf8.encode(p.error.message) : null)))
  const partSizes = topics.map((t, i) => (t.partitions ?? []).map((p, j) => fetchPartitionSize(p, messages[i][j])))
  const topicSizes = topics.map((_, i) => {
    let n = names[i] !== null ? lenField(names[i]!.length) : 0
    for (const s of partSizes[i]) n += 1 + uint32Size(s) + s
    return n
  })
  let fetchSize = 0
  for (const s of topicSizes) fetchSize += 1 + uint32Size(s) + s
  const total = uintField(correlationId) + TAG_FETCH.length + uint32Size(fetchSize) + fetchSize
  const o = new Out(options.lastRecordsHaveHeadroom ? inPlace(topics, total) ?? new Uint8Array(total) : new Uint8Array(total))
  if (correlationId !== 0) {
    o.byte(TAG_CORRELATION_ID)
    o.uint32(correlationId)
  }
  o.tag(TAG_FETCH)
  o.uint32(fetchSize)
  topics.forEach((t, i) => {
    o.byte(0x0a) // topics = 1
    o.uint32(topicSizes[i])
    if (names[i] !== null && names[i]!.length > 0) {
      o.byte(0x0a) // name = 1
      o.uint32(names[i]!.length)
      o.raw(names[i]!)
    }
    ;(t.partitions ?? []).forEach((p, j) => {
      o.byte(0x12) // partitions = 2
      o.uint32(partSizes[i][j])
      writeFetchPartition(o, p, messages[i][j])
    })
  })
  if (o.at !== total) throw new Error(`fetch frame: wrote ${o.at} of ${total} bytes`)
  return o.bytes
}

/**
 * Where a fetch frame of `total` bytes ends exactly at the end of its last partition's records
 * and starts in the free bytes before them; null when it does not end with records or needs
 * more room than there is.
 */
function inPlace(topics: readonly bitacora.FetchResponse.ITopicData[], total: number): Uint8Array | null {
  const partitions = topics.at(-1)?.partitions ?? []
  const last = partitions.at(-1)
  const records = last?.records
  if (!present(records) || records.length === 0 || (present(last!.leaderHint) && last!.leaderHint !== 0) || present(last!.leaderHintEpoch)) return null
  const before = total - records.length
  if (before > records.byteOffset) return null
  return new Uint8Array(records.buffer, records.byteOffset - before, total)
}
