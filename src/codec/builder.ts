// Records staged for one batch, in the layout the WASM encoder reads (layout.ts, staged
// records): stageRecord writes one, for Codec.encodeBatch straight into the module's memory
// and for RecordBatchBuilder into its own buffer. The producer appends each record to a
// builder at send() time, so it keeps no per-record object until the batch is encoded
// (Codec.encodeStaged): the bytes are copied once, the record's objects die young. Pure
// JavaScript, no WASM.
import { CodecError } from './errors.js'
import { STAGED_LENGTH_BYTES, STAGED_TIMESTAMP_DELTA_BYTES } from './layout.js'
import { BATCH_BYTES_MAX } from './limits.js'
import type { RecordHeader } from './types.js'

const utf8 = new TextEncoder()
export const NO_HEADERS: readonly RecordHeader[] = []

/** Staged bytes of one record's fixed fields: timestamp delta, key, value and header-count lengths. */
export const STAGED_RECORD_FIXED_BYTES = STAGED_TIMESTAMP_DELTA_BYTES + 3 * STAGED_LENGTH_BYTES
/** Staged bytes of one header's fixed fields: key and value lengths. */
export const STAGED_HEADER_FIXED_BYTES = 2 * STAGED_LENGTH_BYTES
// Module-level names, so V8 folds them to constants in stageRecord (it does not for imports).
const TIMESTAMP_DELTA_BYTES = STAGED_TIMESTAMP_DELTA_BYTES
const LENGTH_BYTES = STAGED_LENGTH_BYTES

/**
 * Writes one record in the staged layout at buf[at] (`view` over the same bytes, with the
 * same origin) and returns the position after it. The caller has made room for it:
 * STAGED_RECORD_FIXED_BYTES, the key and the value, and per header STAGED_HEADER_FIXED_BYTES,
 * its key's UTF-8 and its value.
 */
export function stageRecord(
  buf: Uint8Array, view: DataView, at: number, timestampDelta: number,
  key: Uint8Array | null | undefined, value: Uint8Array | null, headers: readonly RecordHeader[],
): number {
  view.setFloat64(at, timestampDelta, true)
  at = stageBytes(buf, view, at + TIMESTAMP_DELTA_BYTES, key)
  at = stageBytes(buf, view, at, value)
  view.setInt32(at, headers.length, true)
  at += LENGTH_BYTES
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]
    // Never past the most a key's UTF-8 can take (3 bytes per UTF-16 unit), whatever the key.
    const keyAt = at + LENGTH_BYTES
    const { written } = utf8.encodeInto(h.key, buf.subarray(keyAt, keyAt + h.key.length * 3))
    view.setInt32(at, written, true)
    at = stageBytes(buf, view, at + LENGTH_BYTES + written, h.value)
  }
  return at
}

function stageBytes(buf: Uint8Array, view: DataView, at: number, b: Uint8Array | null | undefined): number {
  if (b == null) {
    view.setInt32(at, -1, true)
    return at + LENGTH_BYTES
  }
  view.setInt32(at, b.length, true)
  // TypedArray.set even for short keys: a copy by hand (the builder's until now) measured 3-15 %
  // slower per record on Node 20, both into the builder's buffer and into WASM memory.
  buf.set(b, at + LENGTH_BYTES)
  return at + LENGTH_BYTES + b.length
}

/** UTF-8 length of a string without encoding it (lone surrogates count 3, as TextEncoder writes U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

export class RecordBatchBuilder {
  private buf: Uint8Array
  private view: DataView
  private length = 0
  private records = 0
  private base = 0
  private max = 0

  /**
   * `initialBytes` is the first allocation (it doubles as records arrive), or `buffer` is
   * used as it is (a recycled one: see release); `capacityBytesMax` bounds the staged bytes
   * (an append past it throws BATCH_TOO_LARGE and stages nothing).
   */
  constructor(initialBytes = 1024, private readonly capacityBytesMax = BATCH_BYTES_MAX, buffer?: Uint8Array) {
    if (!(initialBytes > 0) || !(capacityBytesMax > 0)) throw new RangeError('builder sizes must be positive')
    this.buf = buffer !== undefined && buffer.length <= capacityBytesMax ? buffer : new Uint8Array(Math.min(initialBytes, capacityBytesMax))
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  }

  /** Bytes the staging buffer holds now (it grows up to capacityBytesMax). */
  get capacityBytes(): number {
    return this.buf.length
  }

  /**
   * Gives up the staging buffer for reuse by a later builder; this builder is empty and
   * unusable afterwards. Call only once the staged bytes are encoded.
   */
  release(): Uint8Array {
    const buf = this.buf
    this.buf = new Uint8Array(0)
    this.view = new DataView(this.buf.buffer)
    this.length = 0
    this.records = 0
    return buf
  }

  /** Records staged so far. */
  get count(): number {
    return this.records
  }

  /** Bytes staged so far (the encoder's input; the encoded section is at most 8 bytes per record more). */
  get stagedBytes(): number {
    return this.length
  }

  /** The first record's timestamp: the batch's baseTimestamp (deltas are relative to it). */
  get baseTimestamp(): number {
    return this.base
  }

  get maxTimestamp(): number {
    return this.max
  }

  /** A view of the staged bytes (valid until the next append). */
  get staged(): Uint8Array {
    return this.buf.subarray(0, this.length)
  }

  /** Stages one record. `timestamp` is milliseconds since the epoch. */
  append(key: Uint8Array | null, value: Uint8Array | null, headers: readonly RecordHeader[] | undefined, timestamp: number): void {
    const hs = headers ?? NO_HEADERS
    let need = STAGED_RECORD_FIXED_BYTES + (key?.length ?? 0) + (value?.length ?? 0)
    for (let i = 0; i < hs.length; i++) need += STAGED_HEADER_FIXED_BYTES + utf8Length(hs[i].key) + (hs[i].value?.length ?? 0)
    if (this.length + need > this.buf.length) this.grow(this.length + need)
    if (this.records === 0) {
      this.base = timestamp
      this.max = timestamp
    } else if (timestamp > this.max) {
      this.max = timestamp
    }
    this.length = stageRecord(this.buf, this.view, this.length, timestamp - this.base, key, value, hs)
    this.records++
  }

  private grow(needBytes: number): void {
    if (needBytes > this.capacityBytesMax) {
      throw new CodecError('BATCH_TOO_LARGE', `records need about ${needBytes} bytes, over the ${this.capacityBytesMax}-byte batch limit`)
    }
    // Doubling, but straight to the ceiling once past half of it (a full batch's buffer is then
    // exactly capacityBytesMax, which is what a producer recycles).
    let size = Math.max(needBytes, this.buf.length * 2)
    if (size * 2 > this.capacityBytesMax) size = this.capacityBytesMax
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }
}
