// The byte layouts this module shares with JavaScript: the Kafka RecordBatch v2 header it
// checks, the record and header index it writes for JS, and the staged records JS writes for
// it to encode. AssemblyScript cannot import the host's TypeScript, so src/codec/layout.ts
// defines the same layouts again; every constant here is exported (as an immutable global)
// and the loader compares each with its TypeScript twin when the module loads
// (src/codec/layout-check.ts). Export names follow the TypeScript names: header field
// `lastOffsetDelta` is HEADER_LAST_OFFSET_DELTA_AT / _BYTES, record index slot `keyLength`
// is RECORD_INDEX_KEY_LENGTH_SLOT.

// RecordBatch v2 header, big-endian: each field starts where the one before it ends.
export const HEADER_BASE_OFFSET_AT: i32 = 0
export const HEADER_BASE_OFFSET_BYTES: i32 = 8
export const HEADER_BATCH_LENGTH_AT: i32 = HEADER_BASE_OFFSET_AT + HEADER_BASE_OFFSET_BYTES
export const HEADER_BATCH_LENGTH_BYTES: i32 = 4
export const HEADER_PARTITION_LEADER_EPOCH_AT: i32 = HEADER_BATCH_LENGTH_AT + HEADER_BATCH_LENGTH_BYTES
export const HEADER_PARTITION_LEADER_EPOCH_BYTES: i32 = 4
export const HEADER_MAGIC_AT: i32 = HEADER_PARTITION_LEADER_EPOCH_AT + HEADER_PARTITION_LEADER_EPOCH_BYTES
export const HEADER_MAGIC_BYTES: i32 = 1
export const HEADER_CRC_AT: i32 = HEADER_MAGIC_AT + HEADER_MAGIC_BYTES
export const HEADER_CRC_BYTES: i32 = 4
export const HEADER_ATTRIBUTES_AT: i32 = HEADER_CRC_AT + HEADER_CRC_BYTES
export const HEADER_ATTRIBUTES_BYTES: i32 = 2
export const HEADER_LAST_OFFSET_DELTA_AT: i32 = HEADER_ATTRIBUTES_AT + HEADER_ATTRIBUTES_BYTES
export const HEADER_LAST_OFFSET_DELTA_BYTES: i32 = 4
export const HEADER_BASE_TIMESTAMP_AT: i32 = HEADER_LAST_OFFSET_DELTA_AT + HEADER_LAST_OFFSET_DELTA_BYTES
export const HEADER_BASE_TIMESTAMP_BYTES: i32 = 8
export const HEADER_MAX_TIMESTAMP_AT: i32 = HEADER_BASE_TIMESTAMP_AT + HEADER_BASE_TIMESTAMP_BYTES
export const HEADER_MAX_TIMESTAMP_BYTES: i32 = 8
export const HEADER_PRODUCER_ID_AT: i32 = HEADER_MAX_TIMESTAMP_AT + HEADER_MAX_TIMESTAMP_BYTES
export const HEADER_PRODUCER_ID_BYTES: i32 = 8
export const HEADER_PRODUCER_EPOCH_AT: i32 = HEADER_PRODUCER_ID_AT + HEADER_PRODUCER_ID_BYTES
export const HEADER_PRODUCER_EPOCH_BYTES: i32 = 2
export const HEADER_BASE_SEQUENCE_AT: i32 = HEADER_PRODUCER_EPOCH_AT + HEADER_PRODUCER_EPOCH_BYTES
export const HEADER_BASE_SEQUENCE_BYTES: i32 = 4
export const HEADER_RECORD_COUNT_AT: i32 = HEADER_BASE_SEQUENCE_AT + HEADER_BASE_SEQUENCE_BYTES
export const HEADER_RECORD_COUNT_BYTES: i32 = 4

/** The whole header; the records section follows it. */
export const BATCH_HEADER_BYTES: i32 = HEADER_RECORD_COUNT_AT + HEADER_RECORD_COUNT_BYTES
/** baseOffset and batchLength precede what batchLength counts. */
export const LOG_OVERHEAD_BYTES: i32 = HEADER_PARTITION_LEADER_EPOCH_AT
/** The CRC covers attributes to the end of the batch. */
export const CRC_START: i32 = HEADER_ATTRIBUTES_AT
export const BATCH_MAGIC: i32 = 2
/** Attributes bits 0-2: the compression codec, 0..COMPRESSION_CODEC_MAX (none, gzip, snappy, lz4, zstd). */
export const ATTR_COMPRESSION_MASK: i32 = 0x07
export const COMPRESSION_CODEC_MAX: i32 = 4

// Smallest possible record: length, attributes, timestampDelta, offsetDelta, key, value,
// header count — one byte each. Smallest header: its two length varints.
export const RECORD_BYTES_MIN: i32 = 7
export const HEADER_BYTES_MIN: i32 = 2

// Record index written for JS, per record RECORD_INDEX_INTS little-endian int32 slots
// (offsets are relative to the base walkRecords is given; lengths are -1 for null).
export const RECORD_INDEX_OFFSET_DELTA_SLOT: i32 = 0
export const RECORD_INDEX_ATTRIBUTES_SLOT: i32 = 1
/** A float64 over two slots; the index is 8-byte aligned and a record is 40 bytes. */
export const RECORD_INDEX_TIMESTAMP_DELTA_SLOT: i32 = 2
export const RECORD_INDEX_KEY_OFFSET_SLOT: i32 = 4
export const RECORD_INDEX_KEY_LENGTH_SLOT: i32 = 5
export const RECORD_INDEX_VALUE_OFFSET_SLOT: i32 = 6
export const RECORD_INDEX_VALUE_LENGTH_SLOT: i32 = 7
/** Position of the record's first header in the header index. */
export const RECORD_INDEX_FIRST_HEADER_SLOT: i32 = 8
export const RECORD_INDEX_HEADER_COUNT_SLOT: i32 = 9
export const RECORD_INDEX_INTS: i32 = 10

// Header index, per header HEADER_INDEX_INTS int32 slots.
export const HEADER_INDEX_KEY_OFFSET_SLOT: i32 = 0
export const HEADER_INDEX_KEY_LENGTH_SLOT: i32 = 1
export const HEADER_INDEX_VALUE_OFFSET_SLOT: i32 = 2
export const HEADER_INDEX_VALUE_LENGTH_SLOT: i32 = 3
export const HEADER_INDEX_INTS: i32 = 4

// Staged records that JS writes for encodeRecords (batch.ts describes the whole layout):
// a float64 timestamp delta, then int32 lengths and counts.
export const STAGED_TIMESTAMP_DELTA_BYTES: i32 = 8
export const STAGED_LENGTH_BYTES: i32 = 4
