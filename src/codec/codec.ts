// The record-batch codec: encode, decode and validate Kafka RecordBatch v2 through the WASM
// module. Every call copies its input into the module's one scratch region, runs there, and
// returns JS values; decoded keys, values and headers are views into the caller's input.
// The synchronous methods handle uncompressed batches and the codecs done in WASM (lz4,
// snappy, zstd); the *Async ones every codec, since platform compression (gzip) is
// asynchronous in browsers. Scratch pointers are never held across an await: another call
// may reuse the region meanwhile.
import { NO_HEADERS, RecordBatchBuilder, STAGED_HEADER_FIXED_BYTES, STAGED_RECORD_FIXED_BYTES, stageRecord } from './builder.js'
import { CodecError, wasmError } from './errors.js'
import { declaredBatchBytes, readBatchHeader, setInt64 } from './header.js'
import {
  ATTR_CONTROL, ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER, BATCH_HEADER_BYTES, BATCH_MAGIC,
  CRC_START, HEADER_BYTES_MIN, HEADER_INDEX_INTS, HEADER_INDEX_SLOT, LOG_OVERHEAD_BYTES, RECORD_BYTES_MIN,
  RECORD_INDEX_INTS, RECORD_INDEX_SLOT,
} from './layout.js'
import { BATCH_BYTES_MAX, CRC_CHUNK_BYTES, DECOMPRESSED_BYTES_MAX } from './limits.js'
import { platformCompress, platformDecompress } from './platform-compression.js'
import {
  COMPRESSION_CODECS,
  type BatchHeader, type BatchIndex, type BatchOptions, type CompressionCodec, type DecodedBatch, type DecodedRecord,
  type RecordHeader, type RecordInput, type ValidateOptions,
} from './types.js'
import { align8, instantiateCodec, Scratch, type CodecExports } from './wasm.js'
import { isWasmCodec, WasmCompression, type WasmCodec } from './wasm-compression.js'

// Module-level names for the layouts: V8 folds their reads in hot loops to constants, which it
// does not do for imported bindings (on Node 20 a loop of 8 slot reads ran 1.4x slower through
// the imported table).
const H = BATCH_HEADER
const RS = RECORD_INDEX_SLOT
const HS = HEADER_INDEX_SLOT
const RECORD_INDEX_BYTES = RECORD_INDEX_INTS * Int32Array.BYTES_PER_ELEMENT
const HEADER_INDEX_BYTES = HEADER_INDEX_INTS * Int32Array.BYTES_PER_ELEMENT
// Worst-case growth of one staged record when encoded: record length (5) + attributes (1)
// + offset delta (5) + varlong timestamp (10) minus the staged fixed fields (8 + 4 + 4 + 4).
const ENCODE_SLACK_PER_RECORD = 8

const utf8Decoder = new TextDecoder('utf-8', { fatal: false })

interface EncodedSection {
  outPtr: number
  sectionLen: number
  baseTimestamp: number
  maxTimestamp: number
}

/** Where walkRecords left a batch's record and header index in scratch (see BatchIndex). */
interface WalkIndex {
  readonly recordPtr: number
  readonly headerPtr: number
  readonly headerCount: number
}

export class Codec {
  private readonly scratch: Scratch
  private readonly compression: WasmCompression

  constructor(private readonly wasm: CodecExports) {
    this.scratch = new Scratch(wasm)
    this.compression = new WasmCompression(wasm, this.scratch)
  }

  /** Compresses raw bytes with a WASM codec: an LZ4 frame as Kafka writes it, xerial-framed Snappy, or one zstd frame. */
  compress(codec: WasmCodec, data: Uint8Array): Uint8Array {
    if (!isWasmCodec(codec)) throw new CodecError('UNSUPPORTED_COMPRESSION', `compress handles lz4, snappy and zstd, not ${codec}`)
    return this.compression.compress(codec, data)
  }

  /** Decompresses LZ4 frames, (xerial or raw) Snappy or zstd frames, refusing output past maxDecompressedBytes. */
  decompress(codec: WasmCodec, data: Uint8Array, options: { maxDecompressedBytes?: number } = {}): Uint8Array {
    if (!isWasmCodec(codec)) throw new CodecError('UNSUPPORTED_COMPRESSION', `decompress handles lz4, snappy and zstd, not ${codec}`)
    return this.compression.decompress(codec, data, options.maxDecompressedBytes ?? DECOMPRESSED_BYTES_MAX)
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

  /** Whether a whole batch's stored CRC32C matches its bytes (attributes to the end); framing is the caller's to check. */
  batchCrcMatches(batch: Uint8Array, header: BatchHeader = readBatchHeader(batch)): boolean {
    return this.crc32c(batch.subarray(CRC_START, header.sizeBytes)) === header.crc
  }

  /**
   * Encodes a RecordBatch v2 with a correct CRC; offset deltas run 0..n-1. Compression: none,
   * or a codec done in WASM (lz4, snappy, zstd); gzip needs encodeBatchAsync.
   */
  encodeBatch(records: readonly RecordInput[], options: BatchOptions = {}): Uint8Array {
    return this.encodeWith((room) => this.encodeSection(records, options, room), records.length, options)
  }

  /** encodeBatch, for every codec: the records section is compressed with options.compression. */
  encodeBatchAsync(records: readonly RecordInput[], options: BatchOptions = {}): Promise<Uint8Array> {
    return this.encodeWithAsync((room) => this.encodeSection(records, options, room), records.length, options)
  }

  /**
   * Encodes the records staged in `builder` as one batch (its first record's timestamp is the
   * baseTimestamp). Compression as encodeBatch: none, lz4, snappy, zstd; see encodeStagedAsync.
   */
  encodeStaged(builder: RecordBatchBuilder, options: BatchOptions = {}): Uint8Array {
    return this.encodeWith((room) => this.encodeBuilderSection(builder, options, room), builder.count, options)
  }

  /** encodeStaged, for every codec. */
  encodeStagedAsync(builder: RecordBatchBuilder, options: BatchOptions = {}): Promise<Uint8Array> {
    return this.encodeWithAsync((room) => this.encodeBuilderSection(builder, options, room), builder.count, options)
  }

  private encodeWith(section: (headerRoom: number) => EncodedSection, count: number, options: BatchOptions): Uint8Array {
    const compression = options.compression ?? 'none'
    if (isWasmCodec(compression)) return this.encodeCompressed(section(0), count, options, compression)
    if (compression !== 'none') {
      throw new CodecError('UNSUPPORTED_COMPRESSION', `encodeBatch cannot compress with ${compression}: use encodeBatchAsync`)
    }
    const { outPtr, sectionLen, baseTimestamp, maxTimestamp } = section(BATCH_HEADER_BYTES)
    const total = BATCH_HEADER_BYTES + sectionLen
    this.writeHeader(outPtr, total, count, 0, baseTimestamp, maxTimestamp, options)
    return this.takeOut(outPtr, total, options)
  }

  private async encodeWithAsync(section: (headerRoom: number) => EncodedSection, count: number, options: BatchOptions): Promise<Uint8Array> {
    const compression = options.compression ?? 'none'
    if (compression === 'none' || isWasmCodec(compression)) return this.encodeWith(section, count, options)
    const { outPtr, sectionLen, baseTimestamp, maxTimestamp } = section(0)
    // Scratch is shared: take the section out before awaiting.
    const compressed = await platformCompress(compression, this.scratch.u8.slice(outPtr, outPtr + sectionLen))
    const total = BATCH_HEADER_BYTES + compressed.length
    if (total > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `compressed batch is ${total} bytes, over the ${BATCH_BYTES_MAX}-byte limit`)
    }
    const ptr = this.scratch.reserve(total)
    this.scratch.u8.set(compressed, ptr + BATCH_HEADER_BYTES)
    const codecId = COMPRESSION_CODECS.indexOf(compression)
    this.writeHeader(ptr, total, count, codecId, baseTimestamp, maxTimestamp, options)
    return this.takeOut(ptr, total, options)
  }

  /**
   * Validates one batch completely (framing, CRC, every record; an lz4, snappy or zstd section is
   * decompressed under the limit) without building records: the broker's produce path.
   * Returns its header. `bytes` may hold more after it.
   */
  validateBatch(bytes: Uint8Array, options: ValidateOptions = {}): BatchHeader {
    const { header, ptr } = this.checkFraming(bytes, options, 'validateBatch')
    const section = this.sectionOf(header, ptr, options)
    this.walk(section.ptr, section.len, header, options, 0, false)
    return header
  }

  /** validateBatch, for every codec: a compressed section is decompressed under the limit. */
  async validateBatchAsync(bytes: Uint8Array, options: ValidateOptions = {}): Promise<BatchHeader> {
    const header = readBatchHeader(bytes)
    if (header.compression === 'none' || isWasmCodec(header.compression)) return this.validateBatch(bytes, options)
    const section = await this.decompressSection(bytes, options)
    const ptr = this.scratch.reserve(section.length)
    this.scratch.u8.set(section, ptr)
    this.walk(ptr, section.length, header, options, ptr, false)
    return header
  }

  /**
   * Validates and decodes one batch (uncompressed, lz4, snappy or zstd). Keys, values and headers
   * are views into `bytes`, or for a compressed batch into its decompressed records section
   * (a fresh buffer).
   */
  decodeBatch(bytes: Uint8Array, options: ValidateOptions = {}): DecodedBatch {
    const { header, data, index } = this.indexed(bytes, options, 'decodeBatch')
    return { header, records: this.readIndex(data, header, index.recordPtr, index.headerPtr) }
  }

  /**
   * decodeBatch, for every codec. For a compressed batch, keys and values are views into its
   * decompressed records section (a fresh buffer), not into `bytes`.
   */
  async decodeBatchAsync(bytes: Uint8Array, options: ValidateOptions = {}): Promise<DecodedBatch> {
    const { header, data, index } = await this.indexedAsync(bytes, options, 'decodeBatch')
    return { header, records: this.readIndex(data, header, index.recordPtr, index.headerPtr) }
  }

  /**
   * Validates a batch as decodeBatch does, but returns its record index instead of record
   * objects (uncompressed, lz4, snappy or zstd): what a consumer that reads records lazily keeps,
   * 40 bytes per record. See BatchIndex for the layout.
   */
  indexBatch(bytes: Uint8Array, options: ValidateOptions = {}): BatchIndex {
    const { header, data, index } = this.indexed(bytes, options, 'indexBatch')
    return this.copyIndex(header, data, index)
  }

  /** indexBatch, for every codec. */
  async indexBatchAsync(bytes: Uint8Array, options: ValidateOptions = {}): Promise<BatchIndex> {
    const { header, data, index } = await this.indexedAsync(bytes, options, 'indexBatch')
    return this.copyIndex(header, data, index)
  }

  /**
   * Validates a batch (uncompressed, lz4, snappy or zstd) and leaves its record index in scratch.
   * `data` holds the records the index points into: `bytes` itself, or a copy of the
   * decompressed section.
   */
  private indexed(bytes: Uint8Array, options: ValidateOptions, caller: string): { header: BatchHeader; data: Uint8Array; index: WalkIndex } {
    const { header, ptr } = this.checkFraming(bytes, options, caller)
    if (header.compression === 'none') {
      const index = this.walk(ptr + BATCH_HEADER_BYTES, header.sizeBytes - BATCH_HEADER_BYTES, header, options, ptr, true)
      return { header, data: bytes, index }
    }
    const section = this.sectionOf(header, ptr, options)
    const index = this.walk(section.ptr, section.len, header, options, section.ptr, true)
    return { header, data: this.scratch.u8.slice(section.ptr, section.ptr + section.len), index }
  }

  /** `indexed` for every codec: platform codecs decompress (under the limit) outside WASM. */
  private async indexedAsync(bytes: Uint8Array, options: ValidateOptions, caller: string): Promise<{ header: BatchHeader; data: Uint8Array; index: WalkIndex }> {
    const header = readBatchHeader(bytes)
    if (header.compression === 'none' || isWasmCodec(header.compression)) return this.indexed(bytes, options, caller)
    const section = await this.decompressSection(bytes, options)
    const ptr = this.scratch.reserve(section.length)
    this.scratch.u8.set(section, ptr)
    return { header, data: section, index: this.walk(ptr, section.length, header, options, ptr, true) }
  }

  private copyIndex(header: BatchHeader, data: Uint8Array, index: WalkIndex): BatchIndex {
    const r = index.recordPtr >> 2
    const h = index.headerPtr >> 2
    return {
      header,
      data,
      records: this.scratch.i32.slice(r, r + header.recordCount * RECORD_INDEX_INTS),
      headers: this.scratch.i32.slice(h, h + index.headerCount * HEADER_INDEX_INTS),
    }
  }

  /**
   * Copies the batch into scratch and checks its framing and CRC in WASM. Throws for a batch
   * compressed with a platform codec (the synchronous paths handle only WASM ones).
   */
  private checkFraming(bytes: Uint8Array, options: ValidateOptions, caller: string): { header: BatchHeader; ptr: number } {
    if (bytes.length < LOG_OVERHEAD_BYTES) {
      throw new CodecError('BATCH_TRUNCATED', `record batch is ${bytes.length} bytes, shorter than its ${LOG_OVERHEAD_BYTES}-byte prefix`)
    }
    const declared = declaredBatchBytes(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    if (declared > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `record batch declares ${declared} bytes, over the ${BATCH_BYTES_MAX}-byte limit`)
    }
    const len = Math.min(bytes.length, Math.max(declared, BATCH_HEADER_BYTES))
    const ptr = this.scratch.reserve(len)
    this.scratch.u8.set(bytes.subarray(0, len), ptr)
    const total = this.wasm.checkBatch(ptr, len, options.contiguous === false ? 0 : 1)
    if (total < 0) throw wasmError(total, 'record batch')
    const header = readBatchHeader(bytes)
    if (header.compression !== 'none' && !isWasmCodec(header.compression)) {
      throw new CodecError('UNSUPPORTED_COMPRESSION', `${caller} handles uncompressed, lz4, snappy and zstd batches; this one is ${header.compression}: use ${caller}Async`)
    }
    return { header, ptr }
  }

  /** The records section of the batch at scratch `ptr`: in place, or decompressed after it. */
  private sectionOf(header: BatchHeader, ptr: number, options: ValidateOptions): { ptr: number; len: number } {
    const len = header.sizeBytes - BATCH_HEADER_BYTES
    if (!isWasmCodec(header.compression)) return { ptr: ptr + BATCH_HEADER_BYTES, len }
    const maxBytes = options.maxDecompressedBytes ?? DECOMPRESSED_BYTES_MAX
    return this.compression.decompressAt(header.compression, ptr + BATCH_HEADER_BYTES, len, ptr + header.sizeBytes, maxBytes, 'records section')
  }

  /** A batch with an lz4, snappy or zstd records section (encoded in scratch at outPtr), compressed in scratch. */
  private encodeCompressed(encoded: EncodedSection, count: number, options: BatchOptions, codec: WasmCodec): Uint8Array {
    const { outPtr, sectionLen, baseTimestamp, maxTimestamp } = encoded
    const at = align8(outPtr + sectionLen)
    this.scratch.reserve(at + BATCH_HEADER_BYTES + this.compression.bound(codec, sectionLen) - this.scratch.base)
    const total = BATCH_HEADER_BYTES + this.compression.compressAt(codec, outPtr, sectionLen, at + BATCH_HEADER_BYTES)
    if (total > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `compressed batch is ${total} bytes, over the ${BATCH_BYTES_MAX}-byte limit`)
    }
    this.writeHeader(at, total, count, COMPRESSION_CODECS.indexOf(codec), baseTimestamp, maxTimestamp, options)
    return this.takeOut(at, total, options)
  }

  /** An encoded batch out of scratch, into options.allocate's buffer or a new one. */
  private takeOut(ptr: number, total: number, options: BatchOptions): Uint8Array {
    if (options.allocate === undefined) return this.scratch.u8.slice(ptr, ptr + total)
    const out = options.allocate(total)
    if (out.length !== total) throw new RangeError(`batch allocator gave ${out.length} bytes for a ${total}-byte batch`)
    out.set(this.scratch.u8.subarray(ptr, ptr + total))
    return out
  }

  /** Checks framing, then decompresses the records section under the configured limit. */
  private async decompressSection(bytes: Uint8Array, options: ValidateOptions): Promise<Uint8Array> {
    const header = readBatchHeader(bytes)
    const len = Math.min(bytes.length, Math.max(header.sizeBytes, BATCH_HEADER_BYTES))
    if (header.sizeBytes > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `record batch declares ${header.sizeBytes} bytes, over the ${BATCH_BYTES_MAX}-byte limit`)
    }
    const ptr = this.scratch.reserve(len)
    this.scratch.u8.set(bytes.subarray(0, len), ptr)
    const total = this.wasm.checkBatch(ptr, len, options.contiguous === false ? 0 : 1)
    if (total < 0) throw wasmError(total, 'record batch')
    const maxBytes = options.maxDecompressedBytes ?? DECOMPRESSED_BYTES_MAX
    return platformDecompress(header.compression as CompressionCodec, bytes.subarray(BATCH_HEADER_BYTES, total), maxBytes)
  }

  /**
   * Walks the records section at [ptr, ptr+len) in scratch. With `withIndex`, also writes the
   * record and header index after it (offsets relative to `base`) and returns where.
   */
  private walk(ptr: number, len: number, header: BatchHeader, options: ValidateOptions, base: number, withIndex: boolean): WalkIndex {
    const count = header.recordCount
    if (count > len / RECORD_BYTES_MIN) {
      throw new CodecError('RECORD_COUNT_INVALID', `record count ${count} cannot fit in a ${len}-byte records section`)
    }
    const contiguous = options.contiguous === false ? 0 : 1
    let recordPtr = 0
    let headerPtr = 0
    let headerCap = 0
    if (withIndex) {
      headerCap = Math.floor((len - count * RECORD_BYTES_MIN) / HEADER_BYTES_MIN)
      recordPtr = align8(ptr + len)
      headerPtr = recordPtr + count * RECORD_INDEX_BYTES
      this.scratch.reserve(headerPtr + headerCap * HEADER_INDEX_BYTES - this.scratch.base)
    }
    const rc = this.wasm.walkRecords(ptr, len, count, contiguous, header.lastOffsetDelta, recordPtr, headerPtr, headerCap, base)
    if (rc < 0) throw wasmError(rc, 'records section')
    return { recordPtr, headerPtr, headerCount: rc }
  }

  /**
   * Stages and encodes the records section into scratch, leaving `headerRoom` bytes before it.
   * Returns where the batch starts (outPtr) and the section's length.
   */
  private encodeSection(records: readonly RecordInput[], options: BatchOptions, headerRoom: number): EncodedSection {
    if (records.length === 0) throw new CodecError('INVALID_ARGUMENT', 'a record batch needs at least one record')
    const now = Date.now()
    const baseTimestamp = options.baseTimestamp ?? records[0].timestamp ?? now
    let maxTimestamp = baseTimestamp
    let stagedMax = 0
    for (const r of records) {
      const ts = r.timestamp ?? now
      if (ts > maxTimestamp) maxTimestamp = ts
      stagedMax += STAGED_RECORD_FIXED_BYTES + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      for (const h of r.headers ?? []) stagedMax += STAGED_HEADER_FIXED_BYTES + h.key.length * 3 + (h.value?.length ?? 0)
    }
    const section = this.encodeStagedSection(records.length, stagedMax, headerRoom, (ptr) => this.stageRecords(records, ptr, baseTimestamp, now))
    return { ...section, baseTimestamp, maxTimestamp: options.maxTimestamp ?? maxTimestamp }
  }

  /**
   * Encodes `count` records staged by `stage` (which writes at most `stagedMax` bytes at the
   * pointer it gets and returns how many) into scratch, `headerRoom` bytes after outPtr.
   */
  private encodeStagedSection(count: number, stagedMax: number, headerRoom: number, stage: (ptr: number) => number): { outPtr: number; sectionLen: number } {
    if (stagedMax > BATCH_BYTES_MAX) {
      throw new CodecError('BATCH_TOO_LARGE', `records need about ${stagedMax} bytes, over the ${BATCH_BYTES_MAX}-byte batch limit`)
    }
    const outCap = headerRoom + stagedMax + count * ENCODE_SLACK_PER_RECORD
    const stagedPtr = this.scratch.reserve(align8(stagedMax) + outCap)
    const stagedLen = stage(stagedPtr)
    const outPtr = stagedPtr + align8(stagedMax)
    const sectionLen = this.wasm.encodeRecords(stagedPtr, stagedLen, count, outPtr + headerRoom, outCap - headerRoom)
    if (sectionLen < 0) throw wasmError(sectionLen, 'encodeBatch')
    return { outPtr, sectionLen }
  }

  /** The records section of records staged in a builder, encoded in scratch. */
  private encodeBuilderSection(builder: RecordBatchBuilder, options: BatchOptions, headerRoom: number): EncodedSection {
    if (builder.count === 0) throw new CodecError('INVALID_ARGUMENT', 'a record batch needs at least one record')
    if (options.baseTimestamp !== undefined && options.baseTimestamp !== builder.baseTimestamp) {
      throw new CodecError('INVALID_ARGUMENT', 'a builder\'s batch has its first record\'s timestamp as baseTimestamp')
    }
    const staged = builder.staged
    const section = this.encodeStagedSection(builder.count, staged.length, headerRoom, (ptr) => {
      this.scratch.u8.set(staged, ptr)
      return staged.length
    })
    return { ...section, baseTimestamp: builder.baseTimestamp, maxTimestamp: options.maxTimestamp ?? builder.maxTimestamp }
  }

  private readIndex(bytes: Uint8Array, header: BatchHeader, indexPtr: number, headerPtr: number): DecodedRecord[] {
    const { i32, f64 } = this.scratch
    const view = (at: number, len: number) => (len < 0 ? null : bytes.subarray(at, at + len))
    const logAppend = header.timestampType === 'LogAppendTime'
    const records: DecodedRecord[] = new Array(header.recordCount)
    for (let i = 0; i < header.recordCount; i++) {
      const r = (indexPtr + i * RECORD_INDEX_BYTES) >> 2
      const headerCount = i32[r + RS.headerCount]
      const headers: RecordHeader[] = new Array(headerCount)
      for (let h = 0; h < headerCount; h++) {
        const e = (headerPtr + (i32[r + RS.firstHeader] + h) * HEADER_INDEX_BYTES) >> 2
        const keyAt = i32[e + HS.keyOffset]
        headers[h] = {
          key: utf8Decoder.decode(bytes.subarray(keyAt, keyAt + i32[e + HS.keyLength])),
          value: view(i32[e + HS.valueOffset], i32[e + HS.valueLength]),
        }
      }
      records[i] = {
        offset: header.baseOffset + i32[r + RS.offsetDelta],
        timestamp: logAppend ? header.maxTimestamp : header.baseTimestamp + f64[(r + RS.timestampDelta) >> 1],
        key: view(i32[r + RS.keyOffset], i32[r + RS.keyLength]),
        value: view(i32[r + RS.valueOffset], i32[r + RS.valueLength]),
        headers,
        attributes: i32[r + RS.attributes],
      }
    }
    return records
  }

  /** Writes records in the staged layout into scratch at `at` (room reserved); returns their length. */
  private stageRecords(records: readonly RecordInput[], at: number, baseTimestamp: number, now: number): number {
    const { u8, view } = this.scratch
    const start = at
    for (const r of records) {
      at = stageRecord(u8, view, at, (r.timestamp ?? now) - baseTimestamp, r.key, r.value, r.headers ?? NO_HEADERS)
    }
    return at - start
  }

  private writeHeader(
    at: number, total: number, count: number, codecId: number, baseTimestamp: number, maxTimestamp: number,
    o: BatchOptions,
  ): void {
    const v = this.scratch.view
    let attributes = codecId
    if (o.timestampType === 'LogAppendTime') attributes |= ATTR_LOG_APPEND_TIME
    if (o.transactional) attributes |= ATTR_TRANSACTIONAL
    if (o.control) attributes |= ATTR_CONTROL
    setInt64(v, at + H.baseOffset.at, o.baseOffset ?? 0)
    v.setInt32(at + H.batchLength.at, total - LOG_OVERHEAD_BYTES)
    v.setInt32(at + H.partitionLeaderEpoch.at, o.partitionLeaderEpoch ?? -1)
    v.setInt8(at + H.magic.at, BATCH_MAGIC)
    v.setInt16(at + H.attributes.at, attributes)
    v.setInt32(at + H.lastOffsetDelta.at, count - 1)
    setInt64(v, at + H.baseTimestamp.at, baseTimestamp)
    setInt64(v, at + H.maxTimestamp.at, maxTimestamp)
    setInt64(v, at + H.producerId.at, o.producerId ?? -1)
    v.setInt16(at + H.producerEpoch.at, o.producerEpoch ?? -1)
    v.setInt32(at + H.baseSequence.at, o.baseSequence ?? -1)
    v.setInt32(at + H.recordCount.at, count)
    // Last: the CRC covers the fields above from attributes on.
    v.setUint32(at + H.crc.at, this.wasm.crc32cUpdate(0, at + CRC_START, total - CRC_START))
  }
}

let loading: Promise<Codec> | undefined

/** Loads the codec once (WASM instantiation is async in browsers); later calls share it. */
export function loadCodec(): Promise<Codec> {
  loading ??= instantiateCodec().then((wasm) => new Codec(wasm))
  return loading
}
