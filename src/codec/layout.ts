// The codec's byte layouts, defined once for all TypeScript code: the Kafka RecordBatch v2
// header, the record and header index the WASM module writes for JS, and the staged records
// JS writes for the module to encode. The module has its own copy (assembly/layout.ts: AssemblyScript cannot import this file); the loader checks
// at load that every constant there agrees with this file (layout-check.ts).

/** One header field: where it starts in the batch and how many bytes it takes (big-endian). */
export interface HeaderField {
  readonly at: number
  readonly bytes: number
}

/** Lays fields out one after another, in the order given. */
function inWireOrder<Name extends string>(sizes: Record<Name, number>): Readonly<Record<Name, HeaderField>> {
  const fields = {} as Record<Name, HeaderField>
  let at = 0
  for (const name of Object.keys(sizes) as Name[]) {
    fields[name] = Object.freeze({ at, bytes: sizes[name] })
    at += sizes[name]
  }
  return Object.freeze(fields)
}

/** The RecordBatch v2 header, field by field in wire order, with each field's size in bytes. */
export const BATCH_HEADER = inWireOrder({
  baseOffset: 8,
  batchLength: 4,
  partitionLeaderEpoch: 4,
  magic: 1,
  /** CRC32C of attributes to the end of the batch. */
  crc: 4,
  attributes: 2,
  lastOffsetDelta: 4,
  baseTimestamp: 8,
  maxTimestamp: 8,
  producerId: 8,
  producerEpoch: 2,
  baseSequence: 4,
  recordCount: 4,
})

export type BatchHeaderField = keyof typeof BATCH_HEADER

/** The whole header (61 bytes); the records section follows it. */
export const BATCH_HEADER_BYTES = BATCH_HEADER.recordCount.at + BATCH_HEADER.recordCount.bytes
/** baseOffset and batchLength precede what batchLength counts. */
export const LOG_OVERHEAD_BYTES = BATCH_HEADER.partitionLeaderEpoch.at
/** The CRC covers the batch from attributes to its end. */
export const CRC_START = BATCH_HEADER.attributes.at
export const BATCH_MAGIC = 2

/** Attributes bits 0-2: the compression codec, an index into COMPRESSION_CODECS. */
export const ATTR_COMPRESSION_MASK = 0x07
export const ATTR_LOG_APPEND_TIME = 0x08
export const ATTR_TRANSACTIONAL = 0x10
export const ATTR_CONTROL = 0x20

/**
 * Smallest possible record: length, attributes, timestampDelta, offsetDelta, key, value and
 * header count, one byte each.
 */
export const RECORD_BYTES_MIN = 7
/** Smallest possible record header: its key and value length varints. */
export const HEADER_BYTES_MIN = 2

/**
 * The record index (BatchIndex.records): per record RECORD_INDEX_INTS int32 slots, each
 * named here by its position. Offsets index the batch's data; lengths are -1 for null.
 * timestampDelta is a little-endian float64 over two slots (the index is 8-byte aligned).
 */
export const RECORD_INDEX_SLOT = Object.freeze({
  offsetDelta: 0,
  attributes: 1,
  timestampDelta: 2,
  keyOffset: 4,
  keyLength: 5,
  valueOffset: 6,
  valueLength: 7,
  /** Position of the record's first header in the header index. */
  firstHeader: 8,
  headerCount: 9,
})
/** int32 slots per record in the record index. */
export const RECORD_INDEX_INTS = 10

/** The header index (BatchIndex.headers): per header HEADER_INDEX_INTS int32 slots. */
export const HEADER_INDEX_SLOT = Object.freeze({
  keyOffset: 0,
  keyLength: 1,
  valueOffset: 2,
  valueLength: 3,
})
/** int32 slots per header in the header index. */
export const HEADER_INDEX_INTS = 4

/**
 * Staged records, the encoder's input (builder.ts writes them, assembly/batch.ts reads them),
 * little-endian, one after another: timestampDelta float64 | keyLength int32 (-1 null) | key
 * | valueLength int32 (-1 null) | value | headerCount int32 | per header: keyLength int32 |
 * key (UTF-8) | valueLength int32 (-1 null) | value.
 */
export const STAGED_TIMESTAMP_DELTA_BYTES = 8
/** Every length and count in staged records. */
export const STAGED_LENGTH_BYTES = 4
