// Public types of the record-batch codec. Offsets, timestamps and producer ids are int64 in
// Kafka; here they are JS numbers, exact up to 2^53 (offsets and millisecond timestamps stay
// far below that in practice; values beyond it are rejected on encode).

export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
export const COMPRESSION_CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
/** Whether the codec's synchronous methods handle `codec` (the WASM codecs); gzip needs the *Async ones. */
export const isSyncCompression = (codec: CompressionCodec | 'unknown'): boolean => codec !== 'gzip' && codec !== 'unknown'

export type TimestampType = 'CreateTime' | 'LogAppendTime'

export interface RecordHeader {
  key: string
  /** null and empty are distinct. */
  value: Uint8Array | null
}

export interface RecordInput {
  /** null (or absent) and empty are distinct. */
  key?: Uint8Array | null
  value: Uint8Array | null
  headers?: readonly RecordHeader[]
  /** Milliseconds since the epoch; defaults to the time of encoding. */
  timestamp?: number
}

export interface BatchOptions {
  baseOffset?: number // default 0; the leader stamps the real one
  partitionLeaderEpoch?: number // default -1; the leader stamps the real one
  producerId?: number // default -1 (no idempotence)
  producerEpoch?: number // default -1
  baseSequence?: number // default -1
  transactional?: boolean
  control?: boolean
  timestampType?: TimestampType // default CreateTime
  /** Defaults to the first record's timestamp (as Kafka's Java producer does). */
  baseTimestamp?: number
  /** Defaults to the largest record timestamp. */
  maxTimestamp?: number
  /** Default 'none'. The synchronous encoder supports only codecs done in WASM. */
  compression?: CompressionCodec
  /**
   * Where the encoded batch goes: a buffer of exactly `bytes` bytes (a producer passes reused
   * ones). Default: a new buffer.
   */
  allocate?: (bytes: number) => Uint8Array
}

/** The RecordBatch v2 header (layout.ts), decoded. */
export interface BatchHeader {
  baseOffset: number
  /** Bytes after the batchLength field; the whole batch is sizeBytes = batchLength + 12. */
  batchLength: number
  sizeBytes: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  compression: CompressionCodec | 'unknown'
  timestampType: TimestampType
  transactional: boolean
  control: boolean
  lastOffsetDelta: number
  /** baseOffset + lastOffsetDelta + 1: the offset after this batch. */
  nextOffset: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

export interface DecodedRecord {
  offset: number
  timestamp: number
  /** Views into the decoded input (zero-copy): copy them to keep them past the input's life. */
  key: Uint8Array | null
  value: Uint8Array | null
  headers: RecordHeader[]
  attributes: number
}

export interface DecodedBatch {
  header: BatchHeader
  records: DecodedRecord[]
}

/**
 * A validated batch's record index (Codec.indexBatch), for reading records one at a time
 * without an object per record. Offsets index `data`: the batch itself, or for a compressed
 * batch its decompressed records section. Per record RECORD_INDEX_INTS int32 slots, named by
 * RECORD_INDEX_SLOT; per header HEADER_INDEX_INTS, named by HEADER_INDEX_SLOT (layout.ts).
 */
export interface BatchIndex {
  header: BatchHeader
  data: Uint8Array
  records: Int32Array
  headers: Int32Array
}

export interface ValidateOptions {
  /**
   * Require offset deltas 0..n-1 and count = lastOffsetDelta + 1 (the produce path). Off for
   * stored batches, where compaction leaves gaps. Default true.
   */
  contiguous?: boolean
  /** Ceiling on a compressed batch's decompressed records section. Default DECOMPRESSED_BYTES_MAX. */
  maxDecompressedBytes?: number
}
