// The record-batch codec: encode, decode and validate Kafka RecordBatch v2 through the WASM
// module. Every call copies its input into the module's one scratch region, runs there, and
// returns JS values; decoded keys, values and headers are views into the caller's input.
import { CodecError, wasmError } from './errors.js'
import {
  ATTR_CONTROL, ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER_BYTES, CRC_START,
  LOG_OVERHEAD_BYTES, readBatchHeader, setInt64,
} from './header.js'
import { BATCH_BYTES_MAX, CRC_CHUNK_BYTES } from './limits.js'
import type {
  BatchHeader, BatchOptions, DecodedBatch, DecodedRecord, RecordHeader, RecordInput, ValidateOptions,
} from './types.js'
import { instantiateCodec, Scratch, type CodecExports } from './wasm.js'

// Layout constants shared with assembly/batch.ts.
const RECORD_INDEX_BYTES = 40
const HEADER_INDEX_BYTES = 16
const RECORD_BYTES_MIN = 7
const HEADER_BYTES_MIN = 2
// Worst-case growth of one staged record when encoded: record length (5) + attributes (1)
// + offset delta (5) + varlong timestamp (10) minus the staged fixed fields (8 + 4 + 4 + 4).
const ENCODE_SLACK_PER_RECORD = 8

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: false })

const align8 = (n: number) => (n + 7) & ~7

export class Codec {
  private readonly scratch: Scratch

  constructor(private readonly wasm: CodecExports) {
    this.scratch = new Scratch(wasm)
  }

  /** CRC32C (Castagnoli) of `bytes`, continuing from `crc` (default 0). */
  crc32c(bytes: Uint8Array, crc = 0): number {
    const chunk = Math.min(bytes.length, CRC_CHUNK_BYTES)
    const ptr = this.scratch.reserve(chunk)
    for (let at = 0; at < bytes.length; at += chunk) {
      const part = bytes.subarray(at, Math.min(at + chunk, bytes.length))
      this.scratch.u8.set(part, ptr)
      crc = this.wasm.crc32cUpdate(crc, ptr, part.length)
    }
    return crc >>> 0
  }

  /** Encodes an uncompressed RecordBatch v2 with a correct CRC. Offset deltas run 0..n-1. */
  encodeBatch(records: readonly RecordInput[], options: BatchOptions = {}): Uint8Array {
    if (records.length === 0) throw new CodecError('INVALID_ARGUMENT', 'a record batch needs at least one record')
    const now = Date.now()
    const baseTimestamp = options.baseTimestamp ?? records[0].timestamp ?? now
    let maxTimestamp = baseTimestamp
    let stagedMax = 0
    for (const r of records) {
      const ts = r.timestamp ?? now
      if (ts > maxTimestamp) maxTimestamp = ts
      stagedMax += 20 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      for (const h of r.headers ?? []) stagedMax += 8 + h.key.length * 3 + (h.value?.length ?? 0)
    }
    if (stagedMax > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `records need about ${stagedMax} bytes, over the ${BATCH_BYTES_MAX}-byte batch limit`)
    }
    const outCap = BATCH_HEADER_BYTES + stagedMax + records.length * ENCODE_SLACK_PER_RECORD
    const stagedPtr = this.scratch.reserve(align8(stagedMax) + outCap)
    const stagedLen = this.stageRecords(records, stagedPtr, baseTimestamp, now)
    const outPtr = stagedPtr + align8(stagedMax)
    const recordsLen = this.wasm.encodeRecords(
      stagedPtr, stagedLen, records.length, outPtr + BATCH_HEADER_BYTES, outCap - BATCH_HEADER_BYTES,
    )
    if (recordsLen < 0) throw wasmError(recordsLen, 'encodeBatch')
    const total = BATCH_HEADER_BYTES + recordsLen
    this.writeHeader(outPtr, total, records.length, baseTimestamp, options.maxTimestamp ?? maxTimestamp, options)
    return this.scratch.u8.slice(outPtr, outPtr + total)
  }

  /**
   * Validates one batch completely (framing, CRC, every record) without building records:
   * the broker's produce path. Returns its header. `bytes` may hold more after the batch.
   */
  validateBatch(bytes: Uint8Array, options: ValidateOptions = {}): BatchHeader {
    const { ptr, total } = this.check(bytes, options)
    const header = readBatchHeader(bytes)
    if (header.compression !== 'none') {
      throw new CodecError('UNSUPPORTED_COMPRESSION', `compression ${header.compression} is not supported yet`)
    }
    const rc = this.wasm.walkRecords(
      ptr + BATCH_HEADER_BYTES, total - BATCH_HEADER_BYTES, header.recordCount,
      options.contiguous === false ? 0 : 1, header.lastOffsetDelta, 0, 0, 0, ptr,
    )
    if (rc < 0) throw wasmError(rc, 'validateBatch')
    return header
  }

  /** Validates and decodes one batch; records' keys, values and headers are views into `bytes`. */
  decodeBatch(bytes: Uint8Array, options: ValidateOptions = {}): DecodedBatch {
    const { ptr, total } = this.check(bytes, options)
    const header = readBatchHeader(bytes)
    if (header.compression !== 'none') {
      throw new CodecError('UNSUPPORTED_COMPRESSION', `compression ${header.compression} is not supported yet`)
    }
    const count = header.recordCount
    const recordsLen = total - BATCH_HEADER_BYTES
    const headerCap = Math.max(0, Math.floor((recordsLen - count * RECORD_BYTES_MIN) / HEADER_BYTES_MIN))
    const indexPtr = ptr + align8(total)
    const headerPtr = indexPtr + count * RECORD_INDEX_BYTES
    this.scratch.reserve(headerPtr + headerCap * HEADER_INDEX_BYTES - this.scratch.base)
    const rc = this.wasm.walkRecords(
      ptr + BATCH_HEADER_BYTES, recordsLen, count, options.contiguous === false ? 0 : 1,
      header.lastOffsetDelta, indexPtr, headerPtr, headerCap, ptr,
    )
    if (rc < 0) throw wasmError(rc, 'decodeBatch')
    return { header, records: this.readIndex(bytes, header, indexPtr, headerPtr) }
  }

  /** Copies the batch into scratch and checks its framing and CRC in WASM. */
  private check(bytes: Uint8Array, options: ValidateOptions): { ptr: number; total: number } {
    if (bytes.length < LOG_OVERHEAD_BYTES) {
      throw new CodecError('BATCH_TRUNCATED', `record batch is ${bytes.length} bytes, shorter than its 12-byte prefix`)
    }
    const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(8) + LOG_OVERHEAD_BYTES
    if (declared > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `record batch declares ${declared} bytes, over the ${BATCH_BYTES_MAX}-byte limit`)
    }
    const len = Math.min(bytes.length, Math.max(declared, BATCH_HEADER_BYTES))
    const ptr = this.scratch.reserve(len)
    this.scratch.u8.set(bytes.subarray(0, len), ptr)
    const total = this.wasm.checkBatch(ptr, len, options.contiguous === false ? 0 : 1)
    if (total < 0) throw wasmError(total, 'record batch')
    return { ptr, total }
  }

  private readIndex(bytes: Uint8Array, header: BatchHeader, indexPtr: number, headerPtr: number): DecodedRecord[] {
    const { i32, f64 } = this.scratch
    const view = (at: number, len: number) => (len < 0 ? null : bytes.subarray(at, at + len))
    const logAppend = header.timestampType === 'LogAppendTime'
    const records: DecodedRecord[] = new Array(header.recordCount)
    for (let i = 0; i < header.recordCount; i++) {
      const r = (indexPtr + i * RECORD_INDEX_BYTES) >> 2
      const headerCount = i32[r + 9]
      const headers: RecordHeader[] = new Array(headerCount)
      for (let h = 0; h < headerCount; h++) {
        const e = (headerPtr + (i32[r + 8] + h) * HEADER_INDEX_BYTES) >> 2
        headers[h] = {
          key: utf8Decoder.decode(bytes.subarray(i32[e], i32[e] + i32[e + 1])),
          value: view(i32[e + 2], i32[e + 3]),
        }
      }
      records[i] = {
        offset: header.baseOffset + i32[r],
        timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + f64[(r + 2) >> 1],
        key: view(i32[r + 4], i32[r + 5]),
        value: view(i32[r + 6], i32[r + 7]),
        headers,
        attributes: i32[r + 1],
      }
    }
    return records
  }

  /** Writes records in the staged layout assembly/batch.ts encodes from; returns its length. */
  private stageRecords(records: readonly RecordInput[], at: number, baseTimestamp: number, now: number): number {
    const start = at
    const putBytes = (b: Uint8Array | null | undefined) => {
      if (b == null) {
        this.scratch.view.setInt32(at, -1, true)
        at += 4
      } else {
        this.scratch.view.setInt32(at, b.length, true)
        this.scratch.u8.set(b, at + 4)
        at += 4 + b.length
      }
    }
    for (const r of records) {
      this.scratch.view.setFloat64(at, (r.timestamp ?? now) - baseTimestamp, true)
      at += 8
      putBytes(r.key)
      putBytes(r.value)
      const headers = r.headers ?? []
      this.scratch.view.setInt32(at, headers.length, true)
      at += 4
      for (const h of headers) {
        const { written } = utf8.encodeInto(h.key, this.scratch.u8.subarray(at + 4, at + 4 + h.key.length * 3))
        this.scratch.view.setInt32(at, written, true)
        at += 4 + written
        putBytes(h.value)
      }
    }
    return at - start
  }

  private writeHeader(
    at: number, total: number, count: number, baseTimestamp: number, maxTimestamp: number, o: BatchOptions,
  ): void {
    const v = this.scratch.view
    let attributes = 0
    if (o.timestampType === 'LogAppendTime') attributes |= ATTR_LOG_APPEND_TIME
    if (o.transactional) attributes |= ATTR_TRANSACTIONAL
    if (o.control) attributes |= ATTR_CONTROL
    setInt64(v, at, o.baseOffset ?? 0)
    v.setInt32(at + 8, total - LOG_OVERHEAD_BYTES)
    v.setInt32(at + 12, o.partitionLeaderEpoch ?? -1)
    v.setInt8(at + 16, 2)
    v.setInt16(at + 21, attributes)
    v.setInt32(at + 23, count - 1)
    setInt64(v, at + 27, baseTimestamp)
    setInt64(v, at + 35, maxTimestamp)
    setInt64(v, at + 43, o.producerId ?? -1)
    v.setInt16(at + 51, o.producerEpoch ?? -1)
    v.setInt32(at + 53, o.baseSequence ?? -1)
    v.setInt32(at + 57, count)
    v.setUint32(at + 17, this.wasm.crc32cUpdate(0, at + CRC_START, total - CRC_START))
  }
}

let loading: Promise<Codec> | undefined

/** Loads the codec once (WASM instantiation is async in browsers); later calls share it. */
export function loadCodec(): Promise<Codec> {
  loading ??= instantiateCodec().then((wasm) => new Codec(wasm))
  return loading
}
